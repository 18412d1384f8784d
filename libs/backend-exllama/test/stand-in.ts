/**
 * Test helpers: the bridge runs the real `python/nerion_exl_bridge.py` under python3, with the
 * pure-Python STAND-IN for `exllamav2` (test/python-stand-in, see its README) on PYTHONPATH.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STAND_IN_PYTHONPATH = fileURLToPath(new URL('./python-stand-in', import.meta.url));
export const PYTHON = 'python3';

/** The bridge's environment: this process's, plus the stand-in on PYTHONPATH (or none of it). */
export function bridgeEnv(extra: Record<string, string> = {}, withStandIn = true): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...extra };
  if (withStandIn) env.PYTHONPATH = STAND_IN_PYTHONPATH;
  else delete env.PYTHONPATH;
  return env;
}

const created: string[] = [];

/** A model folder as exllamav2 expects it (config.json; optional tokenizer_config.json with a chat template). */
export function makeModelDir(
  options: { name?: string; config?: Record<string, unknown>; chatTemplate?: string } = {},
): string {
  const root = mkdtempSync(join(tmpdir(), 'nerion-exl-'));
  created.push(root);
  const dir = join(root, options.name ?? 'tiny-exl2');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ architectures: ['LlamaForCausalLM'], max_position_embeddings: 4096, ...options.config }),
  );
  if (options.chatTemplate)
    writeFileSync(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ chat_template: options.chatTemplate, bos_token: '<s>', eos_token: '</s>' }),
    );
  return dir;
}

export function removeModelDirs(): void {
  for (const root of created.splice(0)) rmSync(root, { recursive: true, force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
