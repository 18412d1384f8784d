import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net-helpers.js';

export interface LocalFileServerOptions {
  /** The files served, by request path (e.g. `{ '/model.gguf': bytes }`). Any other path answers 404. */
  files: Record<string, Uint8Array>;
  /** Paths that answer a fixed status and body instead (e.g. `{ '/broken.gguf': { status: 503, body: 'busy' } }`). */
  failures?: Record<string, { status: number; body?: string }>;
  /** Paths that answer 302 with this location (e.g. `{ '/redirect.gguf': '/model.gguf' }`). */
  redirects?: Record<string, string>;
  /** Send file bodies slowly: `chunkBytes` every `delayMs` (so two clients overlap in time). */
  throttle?: { chunkBytes: number; delayMs: number };
}

export interface LocalFileServerRequest {
  url: string;
  /** The request's Range header, if any. */
  range: string | undefined;
}

export interface LocalFileServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Every request received, in order (compare `requests.length` before and after to prove nothing was fetched). */
  requests: readonly LocalFileServerRequest[];
  /** The next file response sends only its first `bytes` bytes, then drops the connection (~300 ms later, once the client has read them). */
  interruptNext(bytes: number): void;
  close(): Promise<void>;
}

/**
 * A local HTTP file server on 127.0.0.1 (a free port) for download tests: serves whole files (200) and
 * `Range: bytes=N-` resumes (206 with content-range; 416 past the end), with content-length and
 * `accept-ranges: bytes`; fixed-status failures, redirects, a request log, and a switch that cuts the next
 * transfer short.
 */
export async function startLocalFileServer(options: LocalFileServerOptions): Promise<LocalFileServer> {
  const requests: LocalFileServerRequest[] = [];
  let interruptAfter: number | undefined;

  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    const path = request.url ?? '';
    requests.push({ url: path, range: request.headers.range });
    const failure = options.failures?.[path];
    if (failure) return void response.writeHead(failure.status).end(failure.body ?? '');
    const location = options.redirects?.[path];
    if (location !== undefined) return void response.writeHead(302, { location }).end();
    const file = Object.hasOwn(options.files, path) ? options.files[path] : undefined;
    if (!file) return void response.writeHead(404).end();

    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= file.length && range)
      return void response.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
    const body = file.subarray(start);
    response.writeHead(range ? 206 : 200, {
      'content-length': String(body.length),
      ...(range ? { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}),
      'accept-ranges': 'bytes',
    });
    if (interruptAfter !== undefined) {
      const bytes = interruptAfter;
      interruptAfter = undefined;
      // The client reads the partial body, then the connection drops mid-transfer.
      response.write(body.subarray(0, bytes), () => setTimeout(() => response.socket?.destroy(), 300));
      return;
    }
    const throttle = options.throttle;
    if (throttle) {
      let sent = 0;
      const sendNext = (): void => {
        if (response.destroyed) return;
        if (sent >= body.length) return void response.end();
        const chunk = body.subarray(sent, sent + throttle.chunkBytes);
        sent += chunk.length;
        response.write(chunk, () => setTimeout(sendNext, throttle.delayMs));
      };
      sendNext();
      return;
    }
    response.end(body);
  };

  const server = createServer(serve);
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    interruptNext(bytes: number): void {
      interruptAfter = bytes;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
