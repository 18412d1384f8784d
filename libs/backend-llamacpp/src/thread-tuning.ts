/**
 * Thread counts by measurement: on the first load of a model file on a machine, a few prompt and decode
 * steps are timed at each sensible thread count, and the fastest count for each phase is kept. The result
 * is cached per model file (path, size, mtime) and machine (CPU model, usable cores, llama.cpp build) in
 * `<cacheDir>/llama-threads.json`, so later loads are instant.
 *
 * Why not a rule: on a 2-core machine a 0.4B F16 model decodes ~1.5× faster with 2 threads than with 1,
 * while a 105 MiB model decodes ~2× faster with 1 (node-llama-cpp 3.21.1 builds a new ggml threadpool
 * for every llama_decode, and llama.cpp's workers busy-wait); prompt batches almost always want every core.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { Llama, LlamaContext, LlamaModel, Token } from 'node-llama-cpp';
import writeFileAtomic from 'write-file-atomic';

/** One measured thread count. Rates are the best of the rounds (a busy machine only ever slows a run down). */
export interface ThreadSample {
  threads: number;
  promptTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

export interface ThreadChoice {
  /** Threads for single-token decode steps. */
  decode: number;
  /** Threads for prompt batches. */
  prompt: number;
  /**
   * settings: given by the caller (NERION_LLAMA_THREADS); rule: usable cores − 1 (measuring off, or a GPU);
   * measured: timed now; cached: read from the cache file.
   */
  source: 'settings' | 'rule' | 'measured' | 'cached';
  /** ISO time of the measurement (measured/cached). */
  measuredAt?: string;
  /**
   * 1-minute load average when it was measured (the figures are only as good as the machine was quiet). A
   * choice measured above the usable core count is measured again on a later load when the load is lower.
   */
  loadAverage?: number;
  samples?: ThreadSample[];
  /** The cache file the choice was stored in or read from. */
  cacheFile?: string;
}

export const THREAD_CACHE_FILE = 'llama-threads.json';
const CACHE_VERSION = 1;

/** Thread counts worth timing for `usable` cores: 1, 2, 3, 4, then every other, up to `usable`; at most 6. */
export function threadCandidates(usable: number): number[] {
  const all: number[] = [];
  for (let threads = 1; threads <= Math.max(1, usable); threads += threads < 4 ? 1 : 2) all.push(threads);
  if (all.at(-1) !== Math.max(1, usable)) all.push(Math.max(1, usable));
  if (all.length <= 6) return all;
  const step = (all.length - 1) / 5;
  return [...new Set(Array.from({ length: 6 }, (_, index) => all[Math.round(index * step)]))];
}

/** The fastest count for one rate; a higher count must beat a lower one by 5% (fewer threads hold up better under load). */
export function pickFastest(samples: readonly ThreadSample[], rate: (sample: ThreadSample) => number): number {
  const sorted = [...samples].sort((a, b) => a.threads - b.threads);
  let best = sorted[0];
  for (const sample of sorted.slice(1)) if (rate(sample) > rate(best) * 1.05) best = sample;
  return best.threads;
}

export interface MachineIdentity {
  cpuModel: string;
  usableCores: number;
  /** e.g. "prebuilt llama.cpp v0.4.0 cpu": another build can prefer other counts. */
  build: string;
}

export function machineIdentity(llama: Llama, usableCores: number): MachineIdentity {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    usableCores,
    build: `${llama.buildType} llama.cpp ${llama.llamaCppRelease.release} ${llama.gpu === false ? 'cpu' : llama.gpu}`,
  };
}

/** The cache key of a model file on a machine: path, size and mtime of the file, plus the machine identity. */
export async function threadCacheKey(path: string, machine: MachineIdentity): Promise<string> {
  const absolute = resolve(path);
  const info = await stat(absolute);
  return createHash('sha256')
    .update(JSON.stringify({ path: absolute, size: info.size, mtimeMs: info.mtimeMs, ...machine }))
    .digest('hex')
    .slice(0, 32);
}

interface CacheEntry {
  path: string;
  sizeBytes: number;
  machine: MachineIdentity;
  decode: number;
  prompt: number;
  measuredAt: string;
  loadAverage: number;
  samples: ThreadSample[];
}

interface CacheFile {
  version: number;
  entries: Record<string, CacheEntry>;
}

async function readCache(file: string): Promise<CacheFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // Absent, or unreadable (not a directory, no permission): the cache only saves a measurement.
    return { version: CACHE_VERSION, entries: {} };
  }
  try {
    const parsed = JSON.parse(text) as CacheFile;
    if (parsed?.version === CACHE_VERSION && parsed.entries && typeof parsed.entries === 'object') return parsed;
  } catch {
    // A damaged or foreign file is replaced by the next measurement: it only ever holds measurements.
  }
  return { version: CACHE_VERSION, entries: {} };
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1;
}

/** The cached choice for a key, or undefined (nothing cached, or the cache dir is not given). */
export async function readCachedThreadChoice(cacheDir: string, key: string): Promise<ThreadChoice | undefined> {
  const file = join(cacheDir, THREAD_CACHE_FILE);
  const entry = (await readCache(file)).entries[key];
  if (!entry || !isCount(entry.decode) || !isCount(entry.prompt)) return undefined;
  return {
    decode: entry.decode,
    prompt: entry.prompt,
    source: 'cached',
    measuredAt: entry.measuredAt,
    loadAverage: entry.loadAverage,
    samples: entry.samples,
    cacheFile: file,
  };
}

async function writeCachedThreadChoice(cacheDir: string, key: string, entry: CacheEntry): Promise<string> {
  const file = join(cacheDir, THREAD_CACHE_FILE);
  await mkdir(cacheDir, { recursive: true });
  const cache = await readCache(file);
  cache.entries[key] = entry;
  // Temp file + rename: a reader sees the old file or the new one, never half of one. Two processes
  // measuring at once both write whole files; the last one wins, and both measured the same thing.
  await writeFileAtomic(file, `${JSON.stringify(cache, null, 2)}\n`, { mode: 0o644 });
  return file;
}

export interface MeasureOptions {
  candidates: readonly number[];
  /** Prompt tokens per prompt step (batches of 16). Default 64. */
  promptTokens?: number;
  /** Single-token decode steps per round. Default 6. */
  decodeSteps?: number;
  /** Rounds over all candidates (interleaved). Default 2; a second round is skipped when the first took longer than budgetMs. */
  rounds?: number;
  budgetMs?: number;
}

/** Times prompt and decode steps at each candidate thread count on `model` (contexts of its own, disposed after). */
export async function measureThreadCounts(model: LlamaModel, options: MeasureOptions): Promise<ThreadSample[]> {
  const promptLength = options.promptTokens ?? 64;
  const decodeSteps = options.decodeSteps ?? 6;
  const rounds = options.rounds ?? 2;
  const budgetMs = options.budgetMs ?? 4000;
  // Real tokens of the model's own vocabulary (any text will do: speed depends on the count, not the ids).
  const text = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n';
  let prompt: Token[] = [];
  while (prompt.length < promptLength) prompt = [...prompt, ...model.tokenize(text)];
  prompt = prompt.slice(0, promptLength);
  const contexts: Array<{ threads: number; context: LlamaContext }> = [];
  const best = new Map<number, ThreadSample>();
  try {
    for (const threads of options.candidates) {
      contexts.push({
        threads,
        context: await model.createContext({
          contextSize: Math.max(256, promptLength + decodeSteps + 16),
          batchSize: promptLength,
          threads,
          sequences: 1,
        }),
      });
    }
    for (let round = 0; round < rounds; round += 1) {
      const roundStarted = performance.now();
      for (const { threads, context } of round % 2 === 0 ? contexts : [...contexts].reverse()) {
        const sequence = context.getSequence();
        try {
          if (round === 0) await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, 4)); // warm-up
          await sequence.clearHistory();
          // The prompt goes in as batches of 16 so that a count already 3× slower than the best is cut short.
          const fastestPrompt = Math.max(0, ...[...best.values()].map((sample) => sample.promptTokensPerSecond));
          const promptLimitMs = fastestPrompt > 0 ? Math.max(20, (3 * 1000 * promptLength) / fastestPrompt) : Infinity;
          let started = performance.now();
          let evaluated = 0;
          while (evaluated < promptLength && performance.now() - started < promptLimitMs) {
            await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(evaluated, evaluated + 16));
            evaluated += 16;
          }
          const promptRate = Math.min(evaluated, promptLength) / ((performance.now() - started) / 1000);
          // A count already 3× slower than the best one seen is not timed to the end (on a busy machine an
          // oversubscribed count can take half a second per token).
          const fastestDecode = Math.max(0, ...[...best.values()].map((sample) => sample.decodeTokensPerSecond));
          const limitMs = fastestDecode > 0 ? Math.max(20, (3 * 1000 * decodeSteps) / fastestDecode) : Infinity;
          started = performance.now();
          let steps = 0;
          while (steps < decodeSteps && performance.now() - started < limitMs) {
            await sequence.evaluateWithoutGeneratingNewTokens([prompt[steps % prompt.length]]);
            steps += 1;
          }
          const decodeRate = steps / ((performance.now() - started) / 1000);
          const previous = best.get(threads);
          best.set(threads, {
            threads,
            promptTokensPerSecond: Math.max(previous?.promptTokensPerSecond ?? 0, promptRate),
            decodeTokensPerSecond: Math.max(previous?.decodeTokensPerSecond ?? 0, decodeRate),
          });
        } finally {
          void sequence.dispose();
        }
      }
      if (performance.now() - roundStarted > budgetMs) break;
    }
  } finally {
    for (const { context } of contexts) await context.dispose();
  }
  return options.candidates.map((threads) => best.get(threads)!);
}

export interface TuneOptions extends Omit<MeasureOptions, 'candidates'> {
  model: LlamaModel;
  llama: Llama;
  path: string;
  sizeBytes: number;
  usableCores: number;
  /** Where the choice is cached; without it the measurement lives as long as the process. */
  cacheDir: string | undefined;
  /** The 1-minute load average now (tests); default os.loadavg. */
  loadAverage?: () => number;
}

const inProcess = new Map<string, Promise<ThreadChoice>>();

/**
 * The thread counts for a model file on this machine: from the cache when it was measured before, else
 * measured now (and cached). One measurement per file and process even when several backends load it.
 */
export async function tuneThreads(options: TuneOptions): Promise<ThreadChoice> {
  const machine = machineIdentity(options.llama, options.usableCores);
  const currentLoad = options.loadAverage ?? (() => loadavg()[0] ?? 0);
  const key = await threadCacheKey(options.path, machine);
  let pending = inProcess.get(key);
  if (!pending) {
    pending = (async (): Promise<ThreadChoice> => {
      if (options.cacheDir) {
        const cached = await readCachedThreadChoice(options.cacheDir, key);
        // A measurement taken while the machine was oversubscribed is provisional: measured again once it is not.
        const busyThen = (cached?.loadAverage ?? 0) > options.usableCores;
        if (cached && (!busyThen || currentLoad() > options.usableCores)) return cached;
      }
      const candidates = threadCandidates(options.usableCores);
      const measuredAt = new Date().toISOString();
      const loadAverage = currentLoad();
      const samples =
        candidates.length === 1
          ? [{ threads: 1, promptTokensPerSecond: 0, decodeTokensPerSecond: 0 }]
          : await measureThreadCounts(options.model, { ...options, candidates });
      const decode = pickFastest(samples, (sample) => sample.decodeTokensPerSecond);
      const prompt = pickFastest(samples, (sample) => sample.promptTokensPerSecond);
      const choice: ThreadChoice = { decode, prompt, source: 'measured', measuredAt, loadAverage, samples };
      if (options.cacheDir) {
        // A cache that cannot be written (read-only, full disk) costs a measurement on the next load, not this call.
        choice.cacheFile = await writeCachedThreadChoice(options.cacheDir, key, {
          path: resolve(options.path),
          sizeBytes: options.sizeBytes,
          machine,
          decode,
          prompt,
          measuredAt,
          loadAverage,
          samples,
        }).catch(() => undefined);
      }
      return choice;
    })();
    inProcess.set(key, pending);
    pending.catch(() => inProcess.delete(key));
  }
  return pending;
}

/** Forgets this process's measurements (tests). */
export function forgetThreadMeasurements(): void {
  inProcess.clear();
}

/**
 * Switches the thread count of a context between batches. node-llama-cpp 3.21.1 uses one count for prompt
 * batches and decode steps (`threads` sets both n_threads and n_threads_batch), and, with `maxThreads: 0`,
 * passes the context's wanted count to llama_set_n_threads before every batch. This sets that wanted count;
 * it relies on the pinned version's internals and returns false (changing nothing) when they are not there.
 */
export function setContextThreads(context: LlamaContext, threads: number): boolean {
  const internals = context as unknown as {
    _idealThreads?: unknown;
    _threadSplitterConsumer?: { _wantedThreads?: unknown };
    _llama?: { maxThreads?: unknown };
  };
  if (typeof internals._idealThreads !== 'number' || internals._llama?.maxThreads !== 0) return false;
  internals._idealThreads = threads;
  const consumer = internals._threadSplitterConsumer;
  if (consumer && typeof consumer._wantedThreads === 'number') consumer._wantedThreads = threads;
  return true;
}
