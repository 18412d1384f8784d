/**
 * `nerion models ensure --backend ollama`: the tag is present in the running Ollama, or pulled through
 * it — a download from the internet, so only after `consent()` says yes (product-spec §2, §5).
 */
import { NerionError, formatBytes } from '@nerion/backend-core';
import { createOllamaBackend } from './ollama-backend.js';
import type { OllamaPullProgress } from './ollama-pull.js';
import { notRunningFix, notRunningMessage } from './ollama-errors.js';

export interface EnsureOllamaModelOptions {
  /** The Ollama tag, e.g. `qwen2.5-coder:7b`. */
  tag: string;
  /** Where Ollama answers (default http://localhost:11434). */
  baseUrl: string;
  /** Asked before pulling; false leaves everything as it was (CONSENT_REQUIRED). */
  /**
   * Asked before pulling: `action` says what happens, for a prompt ("Pull codellama:7b-instruct (3.8 GB) from
   * the Ollama library into the Ollama server at http://…").
   */
  consent: (request: { url: string; destination: string; action: string; sizeBytes?: number }) => Promise<boolean>;
  /** The tag's download size when known (the catalog's), named in the consent question. */
  sizeBytes?: number;
  /** Ollama's progress records while pulling. */
  onProgress?: (record: OllamaPullProgress) => void;
  fetch?: typeof fetch;
}

export interface EnsuredOllamaModel {
  /** present: Ollama has the tag; pulled: pulled now. */
  status: 'present' | 'pulled';
  tag: string;
}

export async function ensureOllamaModel(options: EnsureOllamaModelOptions): Promise<EnsuredOllamaModel> {
  const { tag, baseUrl } = options;
  const backend = createOllamaBackend({ model: tag, baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  try {
    const probe = await backend.probe();
    if (probe.reachable === false) {
      // The fix follows why nothing answers: on a port fetch blocks, starting Ollama there would not help.
      const failure = probe.facts?.connectionFailure;
      throw new NerionError('BACKEND_UNREACHABLE', probe.reason ?? notRunningMessage(baseUrl, failure), {
        data: { baseUrl, ...(failure === undefined ? {} : { code: failure.code }) },
        fix: notRunningFix(baseUrl, failure),
      });
    }
    if (probe.modelAvailable) return { status: 'present', tag };
    const size = options.sizeBytes === undefined ? '' : ` (${formatBytes(options.sizeBytes)})`;
    const action = `Pull ${tag}${size} from the Ollama library into the Ollama server at ${baseUrl}`;
    const request = {
      url: `ollama pull ${tag}`,
      destination: baseUrl,
      action,
      ...(options.sizeBytes === undefined ? {} : { sizeBytes: options.sizeBytes }),
    };
    if (!(await options.consent(request))) {
      throw new NerionError(
        'CONSENT_REQUIRED',
        `Pulling ${tag} through Ollama at ${baseUrl} downloads it from the internet and needs your consent. Set NERION_ALLOW_NETWORK=1, pass --yes, or answer y at the prompt on a terminal. Nothing was downloaded.`,
        { data: { model: tag }, fix: { settings: ['NERION_ALLOW_NETWORK'], command: ['ollama', 'pull', tag] } },
      );
    }
    await backend.pull(tag, options.onProgress ? { onProgress: options.onProgress } : {});
    return { status: 'pulled', tag };
  } finally {
    await backend.close();
  }
}
