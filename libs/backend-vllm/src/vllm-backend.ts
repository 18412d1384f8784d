import { rmSync } from 'node:fs';
import { NerionError, shellJoin, type ProbeResult } from '@nerion/backend-core';
import {
  createOpenAICompatibleBackend,
  serverRootsFromBaseUrl,
  type OpenAICompatibleBackend,
} from '@nerion/backend-openai-compatible';
import { readVllmPidFile, vllmPidFile } from './pid-file.js';
import { stopProcessGroup } from '@nerion/backend-core';
import { DEFAULT_VLLM_COMMAND, vllmServeArguments } from './serve-arguments.js';
import { serverAddressFromBaseUrl } from './server-address.js';
import { ensureVllmServer, type EnsuredVllmServer, type VllmAutostartSettings } from './vllm-server.js';

import { DEFAULT_VLLM_BASE_URL } from './settings.js';
export { DEFAULT_VLLM_BASE_URL };

export interface VllmBackendSettings {
  /** The served model id (`--served-model-name`), e.g. `qwen2.5-coder`. */
  model: string;
  /** The server root (default `http://localhost:8000`), or several: replicas, load-balanced (no autostart then). */
  baseUrl?: string | readonly string[];
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
  const baseUrls = serverRootsFromBaseUrl(settings.baseUrl ?? DEFAULT_VLLM_BASE_URL);
  const baseUrl = baseUrls[0];
  const autostart = settings.autostart && settings.autostart.enabled !== false ? settings.autostart : undefined;
  if (autostart && baseUrls.length > 1)
    throw new NerionError(
      'CONFIG_INVALID',
      `NERION_AUTOSTART_VLLM starts one local vLLM server, but ${baseUrls.length} base URLs (replicas) are set: ${baseUrls.join(', ')}. Start each replica yourself (or use --data-parallel-size on one server), or give one base URL.`,
      { fix: { settings: ['NERION_AUTOSTART_VLLM', 'NERION_VLLM_BASE_URL'] }, data: { baseUrls } },
    );
  const address = serverAddressFromBaseUrl(baseUrl);
  // The command to suggest (or run) for a server root: from the autostart settings even when autostart is
  // off, so the hint names the repo, the parallelism and the extra arguments; on that root's host and port.
  const serveArgvFor = (root: string): string[] => {
    const where = serverAddressFromBaseUrl(root);
    return vllmServeArguments(settings.autostart?.command ?? DEFAULT_VLLM_COMMAND, {
      repo: settings.autostart?.repo ?? '<hugging-face-repo>',
      servedModelName: settings.model,
      host: where.isLocal ? '127.0.0.1' : where.host,
      port: where.port,
      ...(settings.autostart?.parallelism ? { parallelism: settings.autostart.parallelism } : {}),
      ...(settings.autostart?.extraArgs ? { extraArgs: settings.autostart.extraArgs } : {}),
    });
  };
  const serveCommand = shellJoin(serveArgvFor(baseUrl));
  let server: EnsuredVllmServer | undefined;

  const backend = createOpenAICompatibleBackend({
    id: 'vllm',
    model: settings.model,
    baseUrl: baseUrls,
    apiKey: settings.apiKey,
    serverName: 'vLLM',
    startHint: autostart
      ? () => `autostart could not make it answer; check the log under ${autostart.cacheDir}/logs/`
      : (root) =>
          `start it with \`${shellJoin(serveArgvFor(root))}\`, or set NERION_AUTOSTART_VLLM=1 to let nerion start it`,
    startFix: autostart
      ? () => ({ settings: ['NERION_VLLM_BASE_URL', 'NERION_CODER_BASE_URL'] })
      : (root) => ({
          settings: ['NERION_AUTOSTART_VLLM', 'NERION_VLLM_BASE_URL', 'NERION_CODER_BASE_URL'],
          command: serveArgvFor(root),
        }),
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
