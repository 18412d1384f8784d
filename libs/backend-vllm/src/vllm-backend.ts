import { rmSync } from 'node:fs';
import type { ProbeResult } from '@nerion/backend-core';
import {
  createOpenAICompatibleBackend,
  serverRootFromBaseUrl,
  type OpenAICompatibleBackend,
} from '@nerion/backend-openai-compatible';
import { readVllmPidFile, vllmPidFile } from './pid-file.js';
import { stopProcessGroup } from './process-group.js';
import { DEFAULT_VLLM_COMMAND, vllmServeArguments } from './serve-arguments.js';
import { serverAddressFromBaseUrl } from './server-address.js';
import { ensureVllmServer, type EnsuredVllmServer, type VllmAutostartSettings } from './vllm-server.js';

import { DEFAULT_VLLM_BASE_URL } from './settings.js';
export { DEFAULT_VLLM_BASE_URL };

export interface VllmBackendSettings {
  /** The served model id (`--served-model-name`), e.g. `qwen2.5-coder`. */
  model: string;
  /** The server root (default `http://localhost:8000`). */
  baseUrl?: string;
  /** Sent as a Bearer token (vLLM's `--api-key`). */
  apiKey?: string;
  /** Bound of probe() (default 2000 ms). */
  probeTimeoutMs?: number;
  /** Injectable fetch for the client, the probe and readiness polling. */
  fetch?: typeof fetch;
  /** Start a local vLLM server when nothing answers (opt-in: NERION_AUTOSTART_VLLM=1). */
  autostart?: VllmAutostartSettings & { enabled?: boolean };
  /** Progress lines while a server starts (the CLI prints them to stderr). */
  progress?: (message: string) => void;
}

export interface VllmBackend extends OpenAICompatibleBackend {
  /** What autostart did on this backend's first generation, once it ran. */
  readonly server: EnsuredVllmServer | undefined;
}

/** A CoderBackend for vLLM's OpenAI-compatible server, with opt-in autostart. Implements CoderBackend v1. */
export function createVllmBackend(settings: VllmBackendSettings): VllmBackend {
  const baseUrl = serverRootFromBaseUrl(settings.baseUrl ?? DEFAULT_VLLM_BASE_URL);
  const autostart = settings.autostart && settings.autostart.enabled !== false ? settings.autostart : undefined;
  const address = serverAddressFromBaseUrl(baseUrl);
  // The command to suggest (or run): from the autostart settings even when autostart is off, so the hint names the repo.
  const serveArgv = vllmServeArguments(settings.autostart?.command ?? DEFAULT_VLLM_COMMAND, {
    repo: settings.autostart?.repo ?? '<hugging-face-repo>',
    servedModelName: settings.model,
    host: '127.0.0.1',
    port: address.port,
  });
  const serveCommand = serveArgv.join(' ');
  let server: EnsuredVllmServer | undefined;

  const backend = createOpenAICompatibleBackend({
    id: 'vllm',
    model: settings.model,
    baseUrl,
    apiKey: settings.apiKey,
    serverName: 'vLLM',
    startHint: autostart
      ? `autostart could not make it answer; check the log under ${autostart.cacheDir}/logs/`
      : `start it with \`${serveCommand}\`, or set NERION_AUTOSTART_VLLM=1 to let nerion start it`,
    startFix: autostart
      ? { settings: ['NERION_CODER_BASE_URL'] }
      : { settings: ['NERION_AUTOSTART_VLLM', 'NERION_CODER_BASE_URL'], command: serveArgv },
    probeTimeoutMs: settings.probeTimeoutMs,
    fetch: settings.fetch,
    ensureServer: autostart
      ? async ({ signal }) => {
          server = await ensureVllmServer({
            baseUrl,
            model: settings.model,
            autostart,
            fetch: settings.fetch,
            progress: settings.progress,
            signal,
          });
        }
      : undefined,
    describeProbe: (probe: ProbeResult): ProbeResult => {
      if (!autostart) return probe;
      const record = readVllmPidFile(vllmPidFile(autostart.cacheDir, address.port));
      const facts = {
        ...probe.facts,
        autostart: true,
        ...(record ? { serverPid: record.pid, serverAlive: record.alive, serverLog: record.logFile } : {}),
      };
      if (probe.available) return { ...probe, facts };
      const reason = record?.alive
        ? `vLLM is not answering at ${baseUrl} yet; the server nerion started (pid ${record.pid}) is still loading — see ${record.logFile}.`
        : `vLLM is not answering at ${baseUrl}; autostart is on, so the first request starts \`${serveCommand}\` (log under ${autostart.cacheDir}/logs/).`;
      return { ...probe, reason, facts };
    },
    onClose: async () => {
      if (!autostart || autostart.keepRunning !== false || server?.outcome !== 'started' || server.pid === undefined)
        return;
      await stopProcessGroup(server.pid);
      const record = readVllmPidFile(vllmPidFile(autostart.cacheDir, address.port));
      if (record && record.pid === server.pid) rmSync(record.pidFile, { force: true });
    },
  });

  return Object.defineProperty(backend, 'server', { get: () => server, enumerable: true }) as VllmBackend;
}
