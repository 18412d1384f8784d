/**
 * `createExllamaBackend(settings)`: exllamav2 as a CoderBackend v1 (experimental).
 * With a `baseUrl`, it talks to an OpenAI-compatible exllama server (TabbyAPI) through the shared
 * client of @nerion/backend-openai-compatible; otherwise it runs the Python bridge shipped in this package.
 */
import type { CoderBackend } from '@nerion/backend-core';
import { createOpenAICompatibleBackend } from '@nerion/backend-openai-compatible';
import { ExllamaBridgeBackend, type ExllamaBridgeBackendSettings } from './exllama-bridge-backend.js';

export interface ExllamaBackendSettings extends ExllamaBridgeBackendSettings {
  /**
   * An OpenAI-compatible exllama server (TabbyAPI), e.g. `http://localhost:5000`, or several (replicas,
   * load-balanced as in @nerion/backend-openai-compatible); selects HTTP mode.
   */
  baseUrl?: string | readonly string[];
  /** TabbyAPI's API key (sent as a Bearer token). */
  apiKey?: string;
  /** Injectable fetch for HTTP mode. */
  fetch?: typeof fetch;
}

export type ExllamaBackend = CoderBackend;

export function createExllamaBackend(settings: ExllamaBackendSettings): ExllamaBackend {
  if (settings.baseUrl !== undefined && settings.baseUrl.length > 0) {
    return createOpenAICompatibleBackend({
      id: 'exllamav2',
      model: settings.model,
      baseUrl: settings.baseUrl,
      serverName: 'TabbyAPI (exllamav2)',
      startHint:
        'start TabbyAPI with this model loaded, or unset NERION_EXL_BASE_URL (and NERION_CODER_BASE_URL) to run exllamav2 through the local Python bridge',
      startFix: { settings: ['NERION_EXL_BASE_URL', 'NERION_CODER_BASE_URL'] },
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      ...(settings.fetch ? { fetch: settings.fetch } : {}),
      ...(settings.probeTimeoutMs ? { probeTimeoutMs: settings.probeTimeoutMs } : {}),
    });
  }
  return new ExllamaBridgeBackend(settings);
}
