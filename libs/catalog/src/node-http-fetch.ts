/**
 * The downloader's default HTTP client: Node's own `http`/`https` modules. undici 7's fetch crashes the
 * whole process with an uncatchable `AssertionError: assert(!this.paused)` when a server closes the
 * connection (HTTP/1.0, `Connection: close`) while the body is paused by backpressure (undici issue
 * 5360; fixed only in undici 8, which needs Node 22). Node's IncomingMessage pauses the socket instead,
 * and its async iterator reads on demand, so a slow disk applies backpressure safely.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { DownloadFetch, DownloadResponse } from './download-file.js';

const MAX_REDIRECTS = 10;
/** No byte for this long (headers or body) ends the request with an error; a partial file is resumable. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 300_000;

export const nodeHttpFetch: DownloadFetch = async (url, init) => {
  let current = new URL(url);
  for (let redirects = 0; ; redirects += 1) {
    const response = await get(current, init.headers, init.signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
      response.destroy();
      if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, current);
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw new Error(`redirected to a ${next.protocol} URL, which cannot be downloaded`);
      current = next;
      continue;
    }
    return toDownloadResponse(response);
  }
};

function get(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, { method: 'GET', headers, ...(signal === undefined ? {} : { signal }) }, resolve);
    request.setTimeout(DOWNLOAD_IDLE_TIMEOUT_MS, () =>
      request.destroy(new Error(`no data from ${url.host} for ${DOWNLOAD_IDLE_TIMEOUT_MS / 1000} s`)),
    );
    request.once('error', reject);
    request.end();
  });
}

function toDownloadResponse(message: IncomingMessage): DownloadResponse & { cancel(): Promise<void> } {
  return {
    status: message.statusCode ?? 0,
    headers: {
      get(name: string): string | null {
        const value = message.headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(', ') : value;
      },
    },
    body: message,
    cancel: async () => {
      message.destroy();
    },
  };
}
