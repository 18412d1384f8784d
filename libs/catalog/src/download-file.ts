/**
 * A resumable, verified download: bytes go to `<destination>.part` (resumed with an HTTP Range request),
 * the free disk space is checked before any byte is written, the sha256 is computed on the way, and the
 * finished file is renamed into place atomically. A checksum mismatch deletes the part file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, statfs as nodeStatfs } from 'node:fs/promises';
import { diskError, makeDirectory } from './disk-error.js';

export { diskError } from './disk-error.js';
import { dirname } from 'node:path';
import { NerionError, describeError, formatBytes } from '@nerion/backend-core';
import { withDestinationLock } from './download-lock.js';
import { nodeHttpFetch } from './node-http-fetch.js';

/** The parts of a fetch Response the downloader reads (undici's and Node's fetch both fit). */
export interface DownloadResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: AsyncIterable<Uint8Array> | null;
}

export type DownloadFetch = (
  url: string,
  init: { headers: Record<string, string>; redirect: 'follow'; signal?: AbortSignal; dispatcher?: unknown },
) => Promise<DownloadResponse>;

/** Free space of the file system holding `path` (fs.statfs shape). */
export type StatfsFunction = (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

export interface DownloadProgress {
  /** Bytes of the file on disk so far, including bytes resumed from an earlier attempt. */
  readonly receivedBytes: number;
  /** The whole file's size when known. */
  readonly totalBytes: number | undefined;
  /** Bytes this attempt started from (0 unless resumed). */
  readonly resumedFromBytes: number;
  /** Average rate of this attempt. */
  readonly bytesPerSecond: number;
  /** Seconds left at the current rate, when the size is known. */
  readonly etaSeconds: number | undefined;
  readonly done: boolean;
}

export interface DownloadFileOptions {
  url: string;
  destination: string;
  /** When given, the file must hash to this (lower-case hex); a mismatch deletes the part file. */
  expectedSha256?: string;
  /** When given, checked against the server's size and used for the disk-space check before the request. */
  expectedSizeBytes?: number;
  /** Default: Node's http/https (`nodeHttpFetch`); undici's fetch only when a `dispatcher` is given. */
  fetch?: DownloadFetch;
  /** An undici Dispatcher (proxy, custom TLS): the download then goes through undici's fetch with it. */
  dispatcher?: unknown;
  /** Default: fs.promises.statfs. Injectable so tests can simulate a full disk. */
  statfs?: StatfsFunction;
  onProgress?: (progress: DownloadProgress) => void;
  /** Minimum time between progress reports (the last one is always sent). Default 250 ms. */
  progressIntervalMs?: number;
  signal?: AbortSignal;
  /** When given, the file must start with these bytes (e.g. `GGUF`); otherwise it is deleted, not installed. */
  expectedMagic?: Uint8Array;
  /**
   * True when the caller already holds `withDestinationLock(destination)` (as provisionGguf does);
   * otherwise downloadFile takes it, so two downloads never write one `.part` file.
   */
  locked?: boolean;
  /** Told once when another process holds the destination's lock and this one waits for it. */
  onWait?: (message: string) => void;
}

export interface DownloadResult {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  /** True when the sha256 was checked against an expected value. */
  readonly verified: boolean;
  /** The size of the part file the download resumed from (0 when it started fresh). */
  readonly resumedFromBytes: number;
}

export function partPathOf(destination: string): string {
  return `${destination}.part`;
}

export async function downloadFile(options: DownloadFileOptions): Promise<DownloadResult> {
  if (options.locked === true) return downloadLocked(options);
  return withDestinationLock(
    options.destination,
    { ...(options.onWait ? { onWait: options.onWait } : {}), ...(options.signal ? { signal: options.signal } : {}) },
    async (lockLost) => {
      const signal = options.signal ? AbortSignal.any([options.signal, lockLost]) : lockLost;
      try {
        return await downloadLocked({ ...options, signal });
      } catch (error) {
        if (lockLost.aborted) throw lockLost.reason;
        throw error;
      }
    },
  );
}

async function downloadLocked(options: DownloadFileOptions): Promise<DownloadResult> {
  const { url, destination } = options;
  const part = partPathOf(destination);
  const directory = dirname(destination);
  await makeDirectory(directory).catch((error: unknown) => {
    throw diskError(error, `create ${directory}`, directory);
  });
  const statfs = options.statfs ?? ((path: string) => nodeStatfs(path));

  let offset = await sizeOf(part);
  if (options.expectedSizeBytes !== undefined && offset > options.expectedSizeBytes) {
    await rm(part, { force: true });
    offset = 0;
  }
  if (options.expectedSizeBytes !== undefined)
    await ensureFreeSpace(statfs, directory, options.expectedSizeBytes - offset, url);

  const fetchFunction = options.fetch ?? (options.dispatcher === undefined ? nodeHttpFetch : await undiciFetch());
  const headers: Record<string, string> = { 'user-agent': 'nerion' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  let response: DownloadResponse;
  try {
    response = await fetchFunction(url, {
      headers,
      redirect: 'follow',
      signal: options.signal,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
  } catch (error) {
    if (options.signal?.aborted) throw abortedError(part, error);
    throw new NerionError(
      'DOWNLOAD_FAILED',
      `Cannot reach ${url}: ${describeError(error)}. Check the network and the URL, then run the same command again.`,
      {
        cause: error,
        data: { url },
      },
    );
  }

  let total: number | undefined;
  if (response.status === 206 && offset > 0) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (!range || range.start !== offset) {
      await discardBody(response);
      throw new NerionError(
        'DOWNLOAD_FAILED',
        `${url} answered a resume request with the wrong range (${response.headers.get('content-range') ?? 'none'}); delete ${part} and run again.`,
        {
          data: { url, part },
        },
      );
    }
    total = range.total;
  } else if (response.status === 200) {
    if (offset > 0) offset = 0; // the server ignored the Range header: start over
    total = contentLength(response);
  } else if (response.status === 416 && offset > 0) {
    // Nothing left to fetch when the part file already holds the whole file.
    await discardBody(response);
    const range = parseContentRange(response.headers.get('content-range'));
    if (range?.total !== offset) {
      await rm(part, { force: true });
      throw new NerionError(
        'DOWNLOAD_FAILED',
        `${url} refused to resume at byte ${offset} (HTTP 416); the partial file was removed — run the same command again to start over.`,
        {
          data: { url, status: 416 },
        },
      );
    }
    return finish(options, part, offset, offset, true);
  } else {
    await discardBody(response);
    const hint =
      response.status === 404
        ? ' The file is not there: check LLAMA_CPP_MODEL_URL or the catalog entry.'
        : ' Run the same command again later; a partial file is resumed.';
    throw new NerionError('DOWNLOAD_FAILED', `Downloading ${url} failed with HTTP ${response.status}.${hint}`, {
      data: { url, status: response.status },
    });
  }

  if (options.expectedSizeBytes !== undefined && total !== undefined && total !== options.expectedSizeBytes) {
    await discardBody(response);
    throw new NerionError(
      'DOWNLOAD_FAILED',
      `${url} is ${total} bytes but ${options.expectedSizeBytes} were expected; the file changed upstream or the catalog is wrong. Nothing was kept.`,
      { data: { url, total, expected: options.expectedSizeBytes } },
    );
  }
  if (options.expectedSizeBytes === undefined && total !== undefined)
    await ensureFreeSpace(statfs, directory, total - offset, url, response);

  const hash = createHash('sha256');
  if (offset > 0) {
    for await (const chunk of createReadStream(part, { end: offset - 1 })) hash.update(chunk as Buffer);
  }
  const handle = await open(part, offset > 0 ? 'a' : 'w').catch(async (error: unknown) => {
    await discardBody(response);
    throw diskError(error, `write ${part}`, directory);
  });
  let received = offset;
  const started = performance.now();
  const interval = options.progressIntervalMs ?? 250;
  let lastReport = -Infinity;
  const report = (done: boolean): void => {
    if (!options.onProgress) return;
    const now = performance.now();
    if (!done && now - lastReport < interval) return;
    lastReport = now;
    const seconds = Math.max((now - started) / 1000, 1e-3);
    const rate = (received - offset) / seconds;
    const eta = total === undefined || rate <= 0 ? undefined : Math.max(0, (total - received) / rate);
    options.onProgress({
      receivedBytes: received,
      totalBytes: total,
      resumedFromBytes: offset,
      bytesPerSecond: rate,
      etaSeconds: eta,
      done,
    });
  };
  try {
    if (response.body) {
      for await (const chunk of response.body) {
        hash.update(chunk);
        try {
          await handle.write(chunk);
        } catch (error) {
          // The disk, not the network: a full disk's partial file only fills it further, so it goes.
          await discardBody(response).catch(() => undefined);
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOSPC' || code === 'EDQUOT') await rm(part, { force: true }).catch(() => undefined);
          throw diskError(error, `write ${part}`, directory, code === 'ENOSPC' || code === 'EDQUOT');
        }
        received += chunk.byteLength;
        report(false);
      }
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    if (NerionError.isInstance(error)) throw error;
    if (options.signal?.aborted) throw abortedError(part, error);
    throw new NerionError(
      'DOWNLOAD_FAILED',
      `The download of ${url} was interrupted after ${received} bytes (${describeError(error)}). The partial file ${part} is kept: run the same command again to resume.`,
      { cause: error, data: { url, part, receivedBytes: received } },
    );
  }
  try {
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw diskError(error, `write ${part}`, directory);
  }
  const written = (await handle.stat()).size;
  await handle.close();
  if (written !== received) {
    // Something else wrote to the part file meanwhile: the streamed hash does not describe it.
    await rm(part, { force: true });
    throw new NerionError(
      'DOWNLOAD_FAILED',
      `${part} holds ${written} bytes but ${received} were downloaded into it: another process wrote to it at the same time. It was deleted; run the same command again.`,
      { data: { url, part, receivedBytes: received, fileBytes: written } },
    );
  }
  if (total !== undefined && received !== total) {
    throw new NerionError(
      'DOWNLOAD_FAILED',
      `The server closed the connection after ${received} of ${total} bytes of ${url}. The partial file ${part} is kept: run the same command again to resume.`,
      { data: { url, part, receivedBytes: received, totalBytes: total } },
    );
  }
  report(true);
  return finish(options, part, received, offset, false, hash.digest('hex'));
}

async function finish(
  options: DownloadFileOptions,
  part: string,
  bytes: number,
  resumedFromBytes: number,
  rehash: boolean,
  digest?: string,
): Promise<DownloadResult> {
  const sha256 = rehash || digest === undefined ? await sha256OfFile(part) : digest;
  const expected = options.expectedSha256?.toLowerCase();
  if (expected !== undefined && sha256 !== expected) {
    await rm(part, { force: true });
    throw new NerionError(
      'CHECKSUM_MISMATCH',
      `The file from ${options.url} has sha256 ${sha256}, but ${expected} was expected. The download was deleted; check the URL and the expected checksum (LLAMA_CPP_MODEL_SHA256 or the catalog).`,
      { fix: { settings: ['LLAMA_CPP_MODEL_SHA256'] }, data: { url: options.url, expected, actual: sha256 } },
    );
  }
  if (options.expectedMagic !== undefined) {
    const head = await readHead(part, options.expectedMagic.length);
    if (!Buffer.from(options.expectedMagic).equals(head)) {
      await rm(part, { force: true });
      throw new NerionError(
        'DOWNLOAD_FAILED',
        `What ${options.url} sent is not the expected kind of file (it starts with ${JSON.stringify(head.toString('latin1'))}, not ${JSON.stringify(Buffer.from(options.expectedMagic).toString('latin1'))}): probably an error or login page. Nothing was installed; check the URL.`,
        { data: { url: options.url, start: head.toString('hex') } },
      );
    }
  }
  await rename(part, options.destination).catch((error: unknown) => {
    throw diskError(error, `rename ${part} to ${options.destination}`, dirname(options.destination));
  });
  return { path: options.destination, sha256, bytes, verified: expected !== undefined, resumedFromBytes };
}

/** The first `count` bytes of a file (fewer when it is shorter). */
export async function readHead(path: string, count: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The sha256 (hex) of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function ensureFreeSpace(
  statfs: StatfsFunction,
  directory: string,
  neededBytes: number,
  url: string,
  response?: DownloadResponse,
): Promise<void> {
  if (neededBytes <= 0) return;
  const stats = await statfs(directory);
  const free = Number(stats.bavail) * Number(stats.bsize);
  if (free < neededBytes) {
    if (response) await discardBody(response);
    throw new NerionError(
      'INSUFFICIENT_DISK',
      `Downloading ${url} needs ${formatBytes(neededBytes)} in ${directory}, but only ${formatBytes(free)} is free. Free some space or point NERION_CACHE_DIR at a larger disk. Nothing was downloaded.`,
      { fix: { settings: ['NERION_CACHE_DIR'] }, data: { directory, neededBytes, freeBytes: free } },
    );
  }
}

function abortedError(part: string, cause: unknown): NerionError {
  return new NerionError(
    'ABORTED',
    `The download was cancelled; the partial file ${part} is kept and the next run resumes it.`,
    { cause, data: { part } },
  );
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

function contentLength(response: DownloadResponse): number | undefined {
  const raw = response.headers.get('content-length');
  if (raw === null) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

// `bytes 100-199/1000` gives start 100 and total 1000; `bytes */1000` (unsatisfiable) gives only the total.
function parseContentRange(
  header: string | null,
): { start: number | undefined; total: number | undefined } | undefined {
  if (!header) return undefined;
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header.trim());
  if (!match) return undefined;
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    total: match[3] === '*' ? undefined : Number(match[3]),
  };
}

async function discardBody(response: DownloadResponse): Promise<void> {
  const body = response.body as { cancel?: () => Promise<void>; destroy?: () => void } | null;
  if (body && typeof body.cancel === 'function') await body.cancel();
  else if (body && typeof body.destroy === 'function') body.destroy();
}

async function undiciFetch(): Promise<DownloadFetch> {
  const undici = await import('undici');
  return undici.fetch as unknown as DownloadFetch;
}
