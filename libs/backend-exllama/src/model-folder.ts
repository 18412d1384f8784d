/**
 * Where an exllamav2 model lives: `<cacheDir>/models/exl/<name>` (the name sanitised to one safe path
 * segment), and whether a folder holds a model. The one place that knows this layout: the CLI's list,
 * ensure and auto-select, and autostart preparation all call it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** `<cacheDir>/models/exl/<name>`, with every character outside `A-Za-z0-9._-` replaced by `_`. */
export function exllamaModelDir(cacheDir: string, name: string): string {
  return join(cacheDir, 'models', 'exl', name.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/** Whether `directory` holds an exllamav2 (EXL2) model: its `config.json` and at least one `.safetensors` file. */
export function hasExllamaModel(directory: string): boolean {
  if (!existsSync(join(directory, 'config.json'))) return false;
  return readdirSync(directory).some((name) => name.endsWith('.safetensors'));
}
