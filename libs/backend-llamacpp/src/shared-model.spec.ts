import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { collectStream, type StreamPart } from '@nerion/backend-core';
import { fixturePaths } from '../../../tools/fixtures/fixture-paths.mjs';
import { copyFileSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaCppBackend, llamaCppRuntimeStats } from './index.js';

// The preset's testTimeout does not reach projects run from the root config; a cold llama.cpp start on a
// busy 2-core machine can take seconds.
jest.setTimeout(60_000);

const fixtures = fixturePaths();
const messages = [{ role: 'user' as const, content: 'Write a TypeScript function that adds two numbers.' }];

describe('llama_cpp model sharing and behaviour (real node-llama-cpp on the generated GGUF fixture)', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'nerion-llamacpp-shared-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('loads the model once: the second generate reads nothing (the file can even be gone) and no second load happens', async () => {
    const path = join(directory, 'once.gguf');
    copyFileSync(fixtures.tinyLlama, path);
    const backend = createLlamaCppBackend({ model: 'once', modelPath: path, threads: 1 });
    try {
      const loadsBefore = llamaCppRuntimeStats().modelLoads;
      const first = await backend.generate({ messages, maxTokens: 8 });
      expect(first.timings.loadMs).toBeGreaterThan(0);
      expect(llamaCppRuntimeStats().modelLoads).toBe(loadsBefore + 1);
      unlinkSync(path); // re-opening the path would now fail with MODEL_NOT_FOUND
      const second = await backend.generate({ messages, maxTokens: 8 });
      expect(second.text).toBe(first.text);
      expect(second.timings.loadMs).toBeUndefined();
      expect(llamaCppRuntimeStats().modelLoads).toBe(loadsBefore + 1);
    } finally {
      await backend.close();
    }
  });

  it('several names on one file share one loaded model (reference counted) and say so in probe() and warnings', async () => {
    const path = join(directory, 'shared.gguf');
    copyFileSync(fixtures.tinyLlama, path);
    const loadsBefore = llamaCppRuntimeStats().modelLoads;
    const disposalsBefore = llamaCppRuntimeStats().modelDisposals;
    const coder = createLlamaCppBackend({ model: 'qwen2.5-coder', modelPath: path, threads: 1 });
    const other = createLlamaCppBackend({ model: 'deepseek-coder-v2', modelPath: path, threads: 1 });
    try {
      const [a, b] = await Promise.all([
        coder.generate({ messages, maxTokens: 6 }),
        other.generate({ messages, maxTokens: 6 }),
      ]);
      expect(a.text).toBe(b.text);
      expect(llamaCppRuntimeStats().modelLoads).toBe(loadsBefore + 1);
      expect(a.warnings.join(' ')).toContain('"deepseek-coder-v2"');
      expect(a.warnings.join(' ')).toContain('is a label for');
      const probe = await coder.probe();
      expect(probe.available).toBe(true);
      expect(probe.facts?.sharedWith).toEqual(['deepseek-coder-v2']);
      expect(probe.reason).toContain('same model');
      expect(llamaCppRuntimeStats().models.find((model) => model.path === path)).toMatchObject({
        refs: 2,
        loaded: true,
      });

      await coder.close();
      expect(llamaCppRuntimeStats().models.find((model) => model.path === path)).toMatchObject({
        refs: 1,
        labels: ['deepseek-coder-v2'],
      });
      const after = await other.generate({ messages, maxTokens: 6 });
      expect(after.warnings).toEqual([]);
      expect(llamaCppRuntimeStats().modelLoads).toBe(loadsBefore + 1);
    } finally {
      await coder.close();
      await other.close();
    }
    expect(llamaCppRuntimeStats().models.find((model) => model.path === path)).toBeUndefined();
    expect(llamaCppRuntimeStats().modelDisposals).toBe(disposalsBefore + 1);
  });

  it('probe() reports the device, the file, its size, architecture, context length and threads from the GGUF header', async () => {
    const backend = createLlamaCppBackend({ model: 'tiny', modelPath: fixtures.tinyLlama, threads: 1 });
    try {
      const probe = await backend.probe({ timeoutMs: 10_000 });
      expect(probe.available).toBe(true);
      expect(probe.models).toEqual(['tiny']);
      expect(probe.facts).toMatchObject({
        file: fixtures.tinyLlama,
        architecture: 'llama',
        contextLength: 2048,
        chatTemplate: true,
        threads: 1,
        threadsSource: 'settings',
        device: 'cpu',
      });
      expect(probe.facts?.sizeBytes).toBeGreaterThan(100_000);
      expect(probe.version).toMatch(/llama\.cpp/);
    } finally {
      await backend.close();
    }
  });

  it('a GGUF without a chat template: chat falls back to a plain prompt and a warning part says so; prompts need no warning', async () => {
    const backend = createLlamaCppBackend({ model: 'plain', modelPath: fixtures.tinyLlamaNoTemplate, threads: 1 });
    try {
      const parts: StreamPart[] = [];
      for await (const part of backend.stream({ messages, maxTokens: 6 })) parts.push(part);
      const warning = parts.find((part) => part.type === 'warning');
      expect(warning).toBeDefined();
      expect((warning as { message: string }).message).toContain('no chat template');
      const finish = parts.at(-1) as Extract<StreamPart, { type: 'finish' }>;
      expect(finish.result.warnings).toHaveLength(1);
      const prompted = await backend.generate({ prompt: 'def add(a, b):', maxTokens: 6 });
      expect(prompted.warnings).toEqual([]);
      expect(prompted.usage.promptTokens).toBeGreaterThan(0);
    } finally {
      await backend.close();
    }
  });

  it('stop sequences end the text before them with finishReason "stop"', async () => {
    const backend = createLlamaCppBackend({ model: 'tiny', modelPath: fixtures.tinyLlama, threads: 1 });
    try {
      const free = await backend.generate({ prompt: 'function add(a, b) {', maxTokens: 40, temperature: 0 });
      const index = [...free.text].findIndex((character, position) => position > 2 && /[A-Za-z0-9]/.test(character));
      expect(index).toBeGreaterThan(0); // the greedy output of this fixture has ASCII letters after the start
      const stop = [...free.text][index]!;
      const cut = await backend.generate({
        prompt: 'function add(a, b) {',
        maxTokens: 40,
        temperature: 0,
        stop: [stop],
      });
      expect(cut.finishReason).toBe('stop');
      expect(cut.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
    } finally {
      await backend.close();
    }
  });

  it('a prompt longer than the context is refused with INVALID_REQUEST (not silently cut), and the backend stays usable', async () => {
    const backend = createLlamaCppBackend({
      model: 'tiny',
      modelPath: fixtures.tinyLlama,
      threads: 1,
      contextSize: 256,
    });
    try {
      const error = await backend
        .generate({ messages: [{ role: 'user', content: 'x'.repeat(600) }], maxTokens: 4 })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
      expect((error as Error).message).toMatch(/holds 256/);
      expect((await backend.generate({ prompt: 'y', maxTokens: 3 })).finishReason).toBe('length');
    } finally {
      await backend.close();
    }
  });

  it('concurrent calls on one backend take turns on its context and give the same greedy text', async () => {
    const backend = createLlamaCppBackend({ model: 'tiny', modelPath: fixtures.tinyLlama, threads: 1 });
    try {
      const results = await Promise.all(
        [1, 2, 3].map(() => backend.generate({ messages, maxTokens: 12, temperature: 0 })),
      );
      expect(new Set(results.map((result) => result.text)).size).toBe(1);
      for (const result of results)
        expect(result.usage).toEqual({
          promptTokens: results[0]!.usage.promptTokens,
          completionTokens: results[0]!.usage.completionTokens,
        });
    } finally {
      await backend.close();
    }
  });

  it('a timeout stops the native generation, not only the promise (the process goes idle right after)', async () => {
    const backend = createLlamaCppBackend({ model: 'tiny', modelPath: fixtures.tinyLlama, threads: 1 });
    try {
      await backend.generate({ prompt: 'x', maxTokens: 2 });
      await expect(
        backend.generate({ messages, maxTokens: 100_000, temperature: 0, timeoutMs: 100 }),
      ).rejects.toMatchObject({ code: 'TIMEOUT' });
      const cpuBefore = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const cpu = process.cpuUsage(cpuBefore);
      // Greedy decoding of this fixture loops without an end-of-text token, so only the timeout can end it.
      // A generation still running would keep a core busy (~500 ms of CPU here); idle is a few ms.
      expect((cpu.user + cpu.system) / 1000).toBeLessThan(250);
    } finally {
      await backend.close();
    }
  });

  it('breaking out of a stream stops the generation and frees the backend', async () => {
    const backend = createLlamaCppBackend({ model: 'tiny', modelPath: fixtures.tinyLlama, threads: 1 });
    try {
      let deltas = 0;
      for await (const part of backend.stream({ messages, maxTokens: 100_000, temperature: 0 })) {
        if (part.type === 'text-delta' && ++deltas === 3) break;
      }
      const next = await collectStream(backend.stream({ messages, maxTokens: 3 }));
      expect(['stop', 'length']).toContain(next.finishReason);
    } finally {
      await backend.close();
    }
  });

  it('close() during a generation rejects it with BACKEND_CLOSED', async () => {
    const backend = createLlamaCppBackend({ model: 'tiny', modelPath: fixtures.tinyLlama, threads: 1 });
    await backend.generate({ prompt: 'x', maxTokens: 2 });
    const running = backend.generate({ messages, maxTokens: 100_000, temperature: 0 }).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await backend.close();
    expect(await running).toMatchObject({ code: 'BACKEND_CLOSED' });
  });
});
