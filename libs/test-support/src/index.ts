export { fixturePaths, type FixturePaths } from '../../../tools/fixtures/fixture-paths.mjs';
export { buildTinyGguf, writeTinyGguf, TINY_GGUF_DEFAULTS } from '../../../tools/fixtures/tiny-gguf.mjs';
export * from './openai-server/index.js';
export * from './ollama-server/index.js';
export { freePort, closedPort, startHungServer } from './net-helpers.js';
export {
  INSTANT_ENGINE_PARTS,
  instantEngine,
  type InFlightCount,
  type InstantEngineOptions,
} from './instant-engine.js';
export { rejection, thrown } from './rejection.js';
export {
  startLocalFileServer,
  type LocalFileServer,
  type LocalFileServerOptions,
  type LocalFileServerRequest,
} from './file-server.js';
export { startPythonHttpServer, type PythonHttpServer } from './python-http-server.js';
export { runThroughReplicaKill, type ReplicaKillOptions, type ReplicaKillRun } from './replica-kill.js';
export { fakeGguf, type FakeGguf } from './fake-gguf.js';
export { git } from './git.js';
export {
  startClosingStreamServer,
  type ClosingStreamServer,
  type ClosingStreamServerOptions,
  type StreamEnding,
} from './closing-stream-server.js';
export { runStreamClient, type StreamClientOptions, type StreamClientOutcome } from './stream-client-process.js';
