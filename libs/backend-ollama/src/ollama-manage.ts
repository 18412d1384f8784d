/**
 * What `nerion models ps` and `nerion models rm` ask of a running Ollama: its loaded models (`GET /api/ps`)
 * and deleting an installed one (`DELETE /api/delete`), through the `ollama` npm client.
 * Deleting removes the model from the user's Ollama: callers must have the user's consent first.
 */
import { NerionError, RequestLifecycle } from '@nerion/backend-core';
import { Ollama } from 'ollama';
import { fetchWithSignal } from './fetch-with-signal.js';
import { toNerionError } from './ollama-errors.js';
import type { OllamaPullSettings } from './ollama-pull.js';

/** One model Ollama has loaded now (`GET /api/ps`). */
export interface OllamaRunningModel {
  name: string;
  /** Bytes the loaded model takes (RAM + VRAM). */
  sizeBytes: number;
  /** Of which in GPU memory. */
  vramBytes: number;
  /** When Ollama unloads it (ISO time), per its keep_alive. */
  expiresAt?: string;
  /** The context length it was loaded with (Ollama ≥ 0.6 reports it). */
  contextLength?: number;
}

export interface OllamaManageOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

function clientFor(settings: OllamaPullSettings, lifecycle: RequestLifecycle): { client: Ollama; baseUrl: string } {
  const baseUrl = (settings.baseUrl ?? 'http://localhost:11434').replace(/\/+$/, '');
  const baseFetch =
    settings.fetch ?? ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => fetch(input, init));
  const client = new Ollama({
    host: baseUrl,
    fetch: fetchWithSignal(baseFetch, lifecycle.signal),
    ...(settings.headers ? { headers: settings.headers } : {}),
  });
  return { client, baseUrl };
}

/** One model installed in Ollama (`GET /api/tags`). */
export interface OllamaInstalledModel {
  name: string;
  /** Bytes on disk. */
  sizeBytes: number;
  digest?: string;
  modifiedAt?: string;
}

/** The models installed in Ollama, with their size on disk. Throws BACKEND_UNREACHABLE when Ollama does not answer. */
export async function listInstalledOllamaModels(
  settings: OllamaPullSettings,
  options: OllamaManageOptions = {},
): Promise<OllamaInstalledModel[]> {
  const lifecycle = new RequestLifecycle(
    { signal: options.signal, timeoutMs: options.timeoutMs ?? 5000 },
    'listing installed models',
  );
  const { client, baseUrl } = clientFor(settings, lifecycle);
  try {
    const response = await client.list();
    return response.models.map((model) => ({
      name: model.name,
      sizeBytes: model.size,
      ...(model.digest ? { digest: model.digest } : {}),
      ...(model.modified_at ? { modifiedAt: new Date(model.modified_at).toISOString() } : {}),
    }));
  } catch (error) {
    throw toNerionError(error, { baseUrl, model: '', phase: 'request', lifecycle, what: 'listing installed models' });
  } finally {
    lifecycle.dispose();
  }
}

/** The models Ollama has in memory now. Throws BACKEND_UNREACHABLE when Ollama does not answer. */
export async function listRunningOllamaModels(
  settings: OllamaPullSettings,
  options: OllamaManageOptions = {},
): Promise<OllamaRunningModel[]> {
  const lifecycle = new RequestLifecycle(
    { signal: options.signal, timeoutMs: options.timeoutMs ?? 5000 },
    'listing running models',
  );
  const { client, baseUrl } = clientFor(settings, lifecycle);
  try {
    const response = await client.ps();
    return response.models.map((model) => {
      const raw = model as unknown as { context_length?: unknown; expires_at?: unknown };
      const expires = raw.expires_at;
      return {
        name: model.name,
        sizeBytes: model.size,
        vramBytes: model.size_vram ?? 0,
        ...(typeof expires === 'string' || expires instanceof Date
          ? { expiresAt: new Date(expires).toISOString() }
          : {}),
        ...(typeof raw.context_length === 'number' ? { contextLength: raw.context_length } : {}),
      };
    });
  } catch (error) {
    throw toNerionError(error, { baseUrl, model: '', phase: 'request', lifecycle, what: 'listing running models' });
  } finally {
    lifecycle.dispose();
  }
}

/**
 * Deletes `model` from Ollama (`ollama rm`). MODEL_NOT_FOUND when Ollama has no such model,
 * BACKEND_UNREACHABLE when Ollama does not answer.
 */
export async function deleteOllamaModel(
  settings: OllamaPullSettings,
  model: string,
  options: OllamaManageOptions = {},
): Promise<{ model: string; status: 'deleted' }> {
  const lifecycle = new RequestLifecycle(
    { signal: options.signal, timeoutMs: options.timeoutMs ?? 30_000 },
    `deleting "${model}"`,
  );
  const { client, baseUrl } = clientFor(settings, lifecycle);
  try {
    await client.delete({ model });
    return { model, status: 'deleted' };
  } catch (error) {
    const failure = toNerionError(error, { baseUrl, model, phase: 'request', lifecycle, what: 'delete' });
    if (failure.code !== 'MODEL_NOT_FOUND') throw failure;
    throw new NerionError(
      'MODEL_NOT_FOUND',
      `Ollama at ${baseUrl} has no model "${model}" to delete; \`nerion models list\` shows what it has.`,
      { cause: error, data: { baseUrl, model }, fix: { command: ['nerion', 'models', 'list'] } },
    );
  } finally {
    lifecycle.dispose();
  }
}
