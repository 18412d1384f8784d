import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { fixturePaths } from '../../../tools/fixtures/fixture-paths.mjs';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama } from 'node-llama-cpp';
import { createLlamaCppBackend, type LlamaCppProbeFacts } from './index.js';
import {
  THREAD_CACHE_FILE,
  forgetThreadMeasurements,
  machineIdentity,
  pickFastest,
  setContextThreads,
  threadCacheKey,
  threadCandidates,
  tuneThreads,
} from './thread-tuning.js';
import { detectCpuBudget } from './thread-count.js';
import { sharedLlama } from './llama-runtime.js';

jest.setTimeout(60_000);

const fixtures = fixturePaths();
const prompt = 'function add(a, b) {';

describe('thread counts by measurement', () => {
  it('times 1…usable cores (at most 6 counts, always the ends)', () => {
    expect(threadCandidates(1)).toEqual([1]);
    expect(threadCandidates(2)).toEqual([1, 2]);
    expect(threadCandidates(4)).toEqual([1, 2, 3, 4]);
    expect(threadCandidates(8)).toEqual([1, 2, 3, 4, 6, 8]);
    const many = threadCandidates(64);
    expect(many.length).toBeLessThanOrEqual(6);
    expect(many[0]).toBe(1);
    expect(many.at(-1)).toBe(64);
  });

  it('keeps the fastest count, and a higher count must win by more than 5%', () => {
    const samples = [
      { threads: 1, promptTokensPerSecond: 100, decodeTokensPerSecond: 30 },
      { threads: 2, promptTokensPerSecond: 190, decodeTokensPerSecond: 31 },
    ];
    expect(pickFastest(samples, (sample) => sample.promptTokensPerSecond)).toBe(2);
    expect(pickFastest(samples, (sample) => sample.decodeTokensPerSecond)).toBe(1);
  });
});

describe('thread tuning on a real model file (node-llama-cpp on the generated GGUF fixture, a real cache file)', () => {
  let directory: string;
  let cacheDir: string;
  let modelPath: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'nerion-llamacpp-threads-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(() => {
    forgetThreadMeasurements();
    const parent = mkdtempSync(join(directory, 'cache-'));
    cacheDir = join(parent, 'not', 'yet', 'there'); // created on the first write
    modelPath = join(parent, 'model.gguf');
    copyFileSync(fixtures.tinyLlama, modelPath);
  });

  function setCachedLoadAverage(file: string, loadAverage: number): void {
    const cache = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, { loadAverage: number }> };
    for (const entry of Object.values(cache.entries)) entry.loadAverage = loadAverage;
    writeFileSync(file, JSON.stringify(cache));
  }

  async function threadDetails(threadCacheDir: string) {
    const backend = createLlamaCppBackend({ model: 'tiny', modelPath, gpu: false, threadCacheDir });
    try {
      const result = await backend.generate({ prompt, maxTokens: 4 });
      const details = ((await backend.probe({ timeoutMs: 10_000 })).facts ?? {}) as LlamaCppProbeFacts;
      return { details, text: result.text };
    } finally {
      await backend.close();
    }
  }

  it('measures on the first load, picks a count it timed, and caches it per file and machine; the next load reads it', async () => {
    const candidates = threadCandidates(detectCpuBudget().usable);
    const first = await threadDetails(cacheDir);
    expect(first.details.threadsSource).toBe('measured');
    expect(candidates).toContain(first.details.threads);
    expect(candidates).toContain(first.details.promptThreads);
    expect((first.details.threadSamples ?? []).map((sample) => sample.threads)).toEqual(candidates);

    const file = join(cacheDir, THREAD_CACHE_FILE);
    const cache = JSON.parse(readFileSync(file, 'utf8')) as {
      entries: Record<string, { path: string; decode: number; prompt: number; measuredAt: string }>;
    };
    const entries = Object.values(cache.entries);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      path: modelPath,
      decode: first.details.threads,
      prompt: first.details.promptThreads,
      measuredAt: first.details.threadsMeasuredAt,
    });

    setCachedLoadAverage(file, 0); // as if measured on a quiet machine (a busy one's figures are provisional)
    forgetThreadMeasurements(); // as a new process would
    const second = await threadDetails(cacheDir);
    expect(second.details).toMatchObject({
      threadsSource: 'cached',
      threads: first.details.threads,
      promptThreads: first.details.promptThreads,
      threadsMeasuredAt: first.details.threadsMeasuredAt,
      threadsCacheFile: file,
    });
    expect(second.text).toBe(first.text);
  });

  it('a probe before any load reports the cached choice, or that it will be measured', async () => {
    const before = createLlamaCppBackend({ model: 'tiny', modelPath, gpu: false, threadCacheDir: cacheDir });
    try {
      const details = (await before.probe({ timeoutMs: 10_000 })).facts;
      expect(details).toMatchObject({ threadsSource: 'pending' });
      expect(details?.threads).toBeUndefined();
    } finally {
      await before.close();
    }
    const measured = await threadDetails(cacheDir);
    setCachedLoadAverage(join(cacheDir, THREAD_CACHE_FILE), 0);
    const after = createLlamaCppBackend({ model: 'tiny', modelPath, gpu: false, threadCacheDir: cacheDir });
    try {
      const details = (await after.probe({ timeoutMs: 10_000 })).facts;
      expect(details).toMatchObject({ threadsSource: 'cached', threads: measured.details.threads, loaded: false });
    } finally {
      await after.close();
    }
  });

  it('a choice measured while the machine was busier than its cores is measured again once it is quieter', async () => {
    const llama = await getLlama({ gpu: false, maxThreads: 0 });
    const model = await llama.loadModel({ modelPath });
    try {
      const tune = (load: number) =>
        tuneThreads({ model, llama, path: modelPath, sizeBytes: 1, usableCores: 2, cacheDir, loadAverage: () => load });
      const busy = await tune(9);
      expect(busy).toMatchObject({ source: 'measured', loadAverage: 9 });
      forgetThreadMeasurements();
      expect(await tune(9)).toMatchObject({ source: 'cached', loadAverage: 9 }); // still busy: kept
      forgetThreadMeasurements();
      expect(await tune(0.5)).toMatchObject({ source: 'measured', loadAverage: 0.5 }); // quieter: measured again
      forgetThreadMeasurements();
      expect(await tune(0.5)).toMatchObject({ source: 'cached', loadAverage: 0.5 });
    } finally {
      await model.dispose();
    }
  });

  it('a changed model file is measured again; a damaged cache file is replaced', async () => {
    const first = await threadDetails(cacheDir);
    forgetThreadMeasurements();
    utimesSync(modelPath, new Date(), new Date(Date.now() + 5_000));
    const changed = await threadDetails(cacheDir);
    expect(changed.details.threadsSource).toBe('measured');
    const file = join(cacheDir, THREAD_CACHE_FILE);
    expect(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { entries: object }).entries)).toHaveLength(2);
    expect(first.details.threadsSource).toBe('measured');

    writeFileSync(file, '{"version": 1, "entries": '); // cut off
    forgetThreadMeasurements();
    const repaired = await threadDetails(cacheDir);
    expect(repaired.details.threadsSource).toBe('measured');
    expect(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { entries: object }).entries)).toHaveLength(1);
  });

  it('a cached entry with different prompt and decode counts is used as given (decode 1, prompt 2)', async () => {
    // The key names the binaries the backend loads (prebuilt, or nerion's patched build where one was made).
    const llama = await sharedLlama(false);
    const key = await threadCacheKey(modelPath, machineIdentity(llama, detectCpuBudget().usable));
    const entry = {
      path: modelPath,
      sizeBytes: 1,
      machine: {},
      decode: 1,
      prompt: 2,
      measuredAt: '2026-01-01T00:00:00.000Z',
      loadAverage: 0.5,
      samples: [],
    };
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, THREAD_CACHE_FILE), JSON.stringify({ version: 1, entries: { [key]: entry } }));
    const { details, text } = await threadDetails(cacheDir);
    expect(details).toMatchObject({
      threadsSource: 'cached',
      threads: 1,
      promptThreads: 2,
      threadsMeasuredAt: '2026-01-01T00:00:00.000Z',
    });
    const fixed = createLlamaCppBackend({ model: 'tiny', modelPath, gpu: false, threads: 1 });
    try {
      expect((await fixed.generate({ prompt, maxTokens: 4 })).text).toBe(text);
    } finally {
      await fixed.close();
    }
  });

  it('a cache that cannot be written costs a measurement next time, not the call', async () => {
    const blocked = join(directory, 'a-file-not-a-dir');
    writeFileSync(blocked, 'x');
    const { details } = await threadDetails(join(blocked, 'cache'));
    expect(details.threadsSource).toBe('measured');
    expect(details.threadsCacheFile).toBeUndefined();
  });

  it('NERION_LLAMA_THREADS (the threads setting) skips the measurement and writes no cache', async () => {
    const backend = createLlamaCppBackend({
      model: 'tiny',
      modelPath,
      gpu: false,
      threads: 1,
      threadCacheDir: cacheDir,
    });
    try {
      await backend.generate({ prompt, maxTokens: 2 });
      expect((await backend.probe({ timeoutMs: 10_000 })).facts).toMatchObject({
        threads: 1,
        threadsSource: 'settings',
      });
    } finally {
      await backend.close();
    }
    expect(existsSync(join(cacheDir, THREAD_CACHE_FILE))).toBe(false);
  });

  it("switches a context's thread count between batches on the pinned node-llama-cpp", async () => {
    const llama = await getLlama({ gpu: false, maxThreads: 0 });
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      const sequence = context.getSequence();
      await sequence.evaluateWithoutGeneratingNewTokens(model.tokenize('ab'));
      expect(context.currentThreads).toBe(1);
      expect(setContextThreads(context, 2)).toBe(true);
      await sequence.evaluateWithoutGeneratingNewTokens(model.tokenize('cd'));
      expect(context.currentThreads).toBe(2);
      expect(setContextThreads(context, 1)).toBe(true);
      await sequence.evaluateWithoutGeneratingNewTokens(model.tokenize('ef'));
      expect(context.currentThreads).toBe(1);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });
});
