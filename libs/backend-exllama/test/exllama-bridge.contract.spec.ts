import { afterAll, expect, jest } from '@jest/globals';
import { describeCoderBackendContract } from '@nerion/backend-core/testing';
import { ExllamaBridgeBackend, createExllamaBackend } from '../src/index.js';
import { PYTHON, bridgeEnv, makeModelDir, removeModelDirs } from './stand-in.js';

// Each test spawns Python bridges; on a loaded 2-core machine that is slower than Jest's 5 s default.
jest.setTimeout(30_000);
afterAll(() => removeModelDirs());

const modelDir = makeModelDir();
// The first probe spawns python3 and imports the bridge: allow for a busy 2-core CI machine.
const probeTimeoutMs = 8000;

describeCoderBackendContract({
  name: 'exllamav2 via the Python bridge, against a pure-Python stand-in for the exllamav2 module',
  createBackend: async () =>
    createExllamaBackend({ model: 'tiny-exl2', modelDir, python: PYTHON, env: bridgeEnv(), probeTimeoutMs }),
  createUnavailableBackend: async () =>
    createExllamaBackend({ model: 'tiny-exl2', modelDir, python: PYTHON, env: bridgeEnv({}, false), probeTimeoutMs }),
  createBackendWithMissingModel: async () =>
    createExllamaBackend({
      model: 'absent',
      modelDir: `${modelDir}-does-not-exist`,
      python: PYTHON,
      env: bridgeEnv(),
      probeTimeoutMs,
    }),
  probeTimeoutMs,
  assertReleased: async (backend) => {
    expect(backend).toBeInstanceOf(ExllamaBridgeBackend);
    expect((backend as ExllamaBridgeBackend).bridgePid).toBeUndefined();
  },
});
