import { createServer } from 'node:net';

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
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
