import { createServer, type Socket } from 'node:net';
import { listenOnLoopback } from './net-helpers.js';

/** How the server ends its streamed answer, the ways a proxy that closes connections does. */
export type StreamEnding =
  /** Every record, the final one included, then the socket closes (the close delimits the body). */
  | 'close-after-last'
  /** Records, then half a record, then the socket closes (close-delimited body). */
  | 'close-mid-record'
  /** `Transfer-Encoding: chunked`, a chunk cut in the middle of a record, then the socket closes. */
  | 'close-mid-chunk';

export interface ClosingStreamServerOptions {
  /** `ollama`: `/api/generate` and `/api/chat` NDJSON; `openai`: `/v1/chat/completions` and `/v1/completions` SSE. */
  protocol: 'ollama' | 'openai';
  ending: StreamEnding;
  /** Records before the end (default 20000, about 5 MB: parsing it is slower than 127.0.0.1 delivers it, so a client body is paused when the socket ends). */
  records?: number;
  /** Characters of text per record (default 200). */
  recordChars?: number;
}

export interface ClosingStreamServer {
  url: string;
  /** Characters of text the complete records carry (what a client that read everything has). */
  readonly textChars: number;
  /** Streamed answers sent so far. */
  answered(): number;
  close(): Promise<void>;
}

/**
 * A raw HTTP/1.1 server on 127.0.0.1 that answers every POST with a streamed generation (Ollama NDJSON or
 * OpenAI SSE) marked `Connection: close`, written in one burst so a slow reader's body is paused by
 * backpressure when the socket ends — the shape that made undici 7's fetch die with an uncatchable
 * `assert(!this.paused)` (undici issue 5360). Other requests (probes, `/api/version`) get a 404.
 */
export async function startClosingStreamServer(options: ClosingStreamServerOptions): Promise<ClosingStreamServer> {
  const records = options.records ?? 20_000;
  const text = 'x'.repeat(options.recordChars ?? 200);
  const created = '2024-01-01T00:00:00Z';
  const record = (index: number): string =>
    options.protocol === 'ollama'
      ? `${JSON.stringify({ model: 'm', created_at: created, response: text, done: false, index })}\n`
      : `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
  const last =
    options.protocol === 'ollama'
      ? `${JSON.stringify({ model: 'm', created_at: created, response: '', done: true, done_reason: 'stop', eval_count: records })}\n`
      : `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
  const half = options.protocol === 'ollama' ? '{"model":"m","respo' : 'data: {"id":"c","obj';
  let answered = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (Buffer.byteLength(head.slice(end + 4), 'latin1') < length) return;
      socket.off('data', onData);
      if (!head.startsWith('POST ')) {
        socket.end(
          'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
        );
        return;
      }
      answered += 1;
      const body =
        Array.from({ length: records }, (_, index) => record(index)).join('') +
        (options.ending === 'close-after-last' ? last : half);
      const type = options.protocol === 'ollama' ? 'application/x-ndjson' : 'text/event-stream';
      const chunked = options.ending === 'close-mid-chunk';
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nConnection: close\r\n${chunked ? 'Transfer-Encoding: chunked\r\n' : ''}\r\n`,
      );
      // A chunked body announces more bytes than it sends: the cut comes inside the chunk.
      socket.end(chunked ? `${(Buffer.byteLength(body) + 100).toString(16)}\r\n${body}` : body);
    };
    socket.on('data', onData);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    textChars: records * text.length,
    answered: () => answered,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
