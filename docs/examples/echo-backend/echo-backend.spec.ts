import { describe, expect, it } from '@jest/globals';
import { BackendRegistry } from '@nerion/backend-core';
import { describeCoderBackendContract } from '@nerion/backend-core/testing';
import { createAcmeBackend } from './echo-backend.js';

// A fourth-party backend (id "acme"), written against @nerion/backend-core alone, passes the contract suite.
describeCoderBackendContract({
  name: 'acme, a fourth-party echo backend written against @nerion/backend-core alone',
  createBackend: async () => createAcmeBackend({ model: 'acme-echo' }),
  createUnavailableBackend: async () => createAcmeBackend({ model: 'acme-echo', models: [] }),
  createBackendWithMissingModel: async () => createAcmeBackend({ model: 'deepseek-coder-v2' }),
});

describe('BackendRegistry with a fourth-party backend', () => {
  it('registers and creates "acme" next to nothing else, and lists it', async () => {
    const registry = new BackendRegistry().register('acme', async (model) => createAcmeBackend({ model }));
    expect(registry.ids()).toEqual(['acme']);
    const backend = await registry.create('acme', 'acme-echo', undefined);
    try {
      expect(backend.id).toBe('acme');
      expect((await backend.generate({ prompt: 'hello world', maxTokens: 3 })).text).toBe('hello world hello');
    } finally {
      await backend.close();
    }
    await expect(registry.create('tgi', 'x', undefined)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
