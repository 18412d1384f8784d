/**
 * CLI helpers for the model catalog: load it per the resolved config, ask for download consent, and
 * render download progress (a bar on a terminal, occasional plain lines otherwise — always on stderr).
 */
import { createInterface } from 'node:readline/promises';
import { formatBytes, redactSecrets } from '@nerion/backend-core';
import { ollamaEndpoints } from '@nerion/backend-ollama/settings';
import { vllmEndpoints } from '@nerion/backend-vllm/settings';
import type { KnownBackendId, NerionConfig } from '@nerion/config';
import { loadCatalog, type Catalog, type DownloadProgress } from '@nerion/catalog';
import { isInteractive } from './environment.js';

/** The packaged catalog, extended/overridden by NERION_MODEL_CATALOG when set. */
export function loadCatalogForConfig(config: NerionConfig): Catalog {
  return loadCatalog(config.catalogPath === undefined ? {} : { catalogPath: config.catalogPath });
}

/**
 * The endpoints of an HTTP backend — its own (NERION_OLLAMA_BASE_URL / NERION_VLLM_BASE_URL, or
 * NERION_CODER_BASE_URL when it is the selected backend; several are replicas), else the backend's default
 * (for Ollama, after OLLAMA_HOST). Whatever backend is selected, each command looks at each backend here.
 */
export function endpointsFor(config: NerionConfig, backend: 'ollama' | 'vllm'): string[] {
  return backend === 'ollama'
    ? ollamaEndpoints(config.endpoints.ollama, config.ollamaHost)
    : vllmEndpoints(config.endpoints.vllm);
}

/** The first endpoint of an HTTP backend (the one messages and printed commands name). */
export function baseUrlFor(config: NerionConfig, backend: 'ollama' | 'vllm'): string {
  return endpointsFor(config, backend)[0];
}

/**
 * Consent to download: NERION_ALLOW_NETWORK=1 or --yes (both land in config.allowNetwork), else a y/N
 * prompt when stdin and stderr are terminals, else no.
 */
export function consentFor(
  config: NerionConfig,
): (request: { url: string; destination: string; sizeBytes?: number; action?: string }) => Promise<boolean> {
  return async ({ url, destination, sizeBytes, action }) => {
    if (config.allowNetwork) return true;
    if (process.stdin.isTTY !== true || !isInteractive(process.stderr)) return false;
    const size = sizeBytes === undefined ? '' : ` (${formatBytes(sizeBytes)})`;
    // `action` says what happens in the caller's words (an Ollama pull); otherwise: a file download.
    return askYesNo(`${redactSecrets(action ?? `Download ${url}${size} to ${destination}`)}? [y/N] `);
  };
}

export async function askYesNo(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/** Progress of a byte download: a redrawn bar on a TTY; otherwise a plain line every 10 s or so. */
export function createByteProgressRenderer(label: string): {
  update: (progress: DownloadProgress) => void;
  finish: () => void;
} {
  const tty = isInteractive(process.stderr);
  let lastLine = 0;
  let drawn = false;
  let started = false;
  return {
    update(progress) {
      if (!started) {
        started = true;
        // Said when resuming starts (not only at the end); the rate below counts this run's bytes only.
        if (progress.resumedFromBytes > 0)
          process.stderr.write(
            `${label}: resuming from byte ${progress.resumedFromBytes} (${formatBytes(progress.resumedFromBytes)} already downloaded)\n`,
          );
      }
      const percent = progress.totalBytes
        ? Math.min(100, (progress.receivedBytes / progress.totalBytes) * 100)
        : undefined;
      const rate = `${formatBytes(progress.bytesPerSecond)}/s`;
      const eta = progress.etaSeconds === undefined ? '' : ` ETA ${formatDuration(progress.etaSeconds)}`;
      const amount = `${formatBytes(progress.receivedBytes)}${progress.totalBytes ? ` / ${formatBytes(progress.totalBytes)}` : ''}`;
      if (tty) {
        const width = 24;
        const filled = percent === undefined ? 0 : Math.round((percent / 100) * width);
        const bar =
          percent === undefined
            ? ''
            : `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent.toFixed(1).padStart(5)}% `;
        process.stderr.write(`\r${label} ${bar}${amount} ${rate}${eta}\x1b[K`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (!progress.done && now - lastLine < 10_000) return;
      lastLine = now;
      process.stderr.write(
        `${label}: ${percent === undefined ? '' : `${percent.toFixed(0)}% `}${amount} at ${rate}${eta}\n`,
      );
    },
    finish() {
      if (tty && drawn) process.stderr.write('\n');
    },
  };
}

export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

export const BACKEND_LABELS: Readonly<Record<KnownBackendId, string>> = {
  ollama: 'ollama',
  llama_cpp: 'llama_cpp',
  vllm: 'vllm',
  exllamav2: 'exllamav2',
};
