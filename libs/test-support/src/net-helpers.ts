import { createServer, type Server, type Socket } from 'node:net';

/** Starts `server` (net or http) on an ephemeral port of 127.0.0.1 and resolves to the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as { port: number }).port;
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/** A port on 127.0.0.1 that was free a moment ago (listen on port 0, read the port, close): for a server a test starts. */
export function freePort(): Promise<number> {
  return unusedPort();
}

/** A port on 127.0.0.1 where nothing listens: for tests of "backend unreachable" paths. */
export function closedPort(): Promise<number> {
  return unusedPort();
}

/** A server on 127.0.0.1 that accepts connections, reads requests and never answers (a hung engine): for timeout tests. */
export async function startHungServer(): Promise<{
  url: string;
  port: number;
  /** HTTP request heads received (lines like `POST /v1/chat/completions HTTP/1.1`). */
  requests(): string[];
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('latin1').split('\r\n'))
        if (/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(line)) requests.push(line);
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => [...requests],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
