/**
 * HTTP plumbing shared by the protocol-faithful stand-ins (Ollama, OpenAI-compatible): an error that
 * carries its status, reading a request body, sending a body with its length, and listening on a port.
 * What each server answers (paths, error bodies) stays in its own routes.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Thrown by a route: the server answers `status`, with the message in its own error shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The error type where the protocol names one (OpenAI's `type`: BadRequestError, NotFoundError, …). */
    readonly type = 'Error',
  ) {
    super(message);
  }
}

/** The whole request body as UTF-8 text. */
export async function readRequestText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers `status` with `body` and its Content-Length. */
export function sendBody(response: ServerResponse, status: number, body: string, contentType: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Listens on `host:port` (port 0: a free one) and resolves with the port. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
