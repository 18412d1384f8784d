/**
 * The process-wide llama.cpp runtime: one `getLlama()` per GPU setting, and one loaded model per GGUF
 * path, reference counted across the backends that use it. A backend leases the model; the weights are
 * read (memory-mapped) once, on the first lease that needs them, and released when the last lease closes.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { NerionError, describeError, formatBytes } from '@nerion/backend-core';
import type * as NodeLlamaCppModule from 'node-llama-cpp';
import type { GgufInsights, Llama, LlamaModel } from 'node-llama-cpp';

type NodeLlamaCpp = typeof NodeLlamaCppModule;
import {
  checkGgufMagic,
  checkModelPath,
  checkWeightsInFile,
  ensureArgv,
  ensureCommand,
  readGgufSummary,
  type GgufSummary,
} from './model-file.js';
import { llamaBuildGetLlamaOptions, type LlamaBuildSetting } from './llama-build.js';

export type GpuSetting = 'auto' | false;

export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  summary: GgufSummary;
  insights: GgufInsights;
  /** Milliseconds the load took (header checks + llama.cpp's load). */
  loadMs: number;
}

interface ModelEntry {
  key: string;
  path: string;
  gpu: GpuSetting;
  build: LlamaBuildSetting;
  refs: number;
  /** Model names (labels) served from this file, with how many leases use each. */
  labels: Map<string, number>;
  loading: Promise<LoadedModel> | undefined;
  loaded: LoadedModel | undefined;
}

const llamas = new Map<string, Promise<Llama>>();
const models = new Map<string, ModelEntry>();
const counters = { modelLoads: 0, modelDisposals: 0 };

/** Facts about the runtime, for tests, the benchmark and `doctor`. */
export interface LlamaCppRuntimeStats {
  /** How many times a GGUF file was loaded by llama.cpp in this process (all paths). */
  modelLoads: number;
  modelDisposals: number;
  models: ReadonlyArray<{ path: string; gpu: GpuSetting; refs: number; labels: readonly string[]; loaded: boolean }>;
}

export function llamaCppRuntimeStats(): LlamaCppRuntimeStats {
  return {
    ...counters,
    models: [...models.values()].map((entry) => ({
      path: entry.path,
      gpu: entry.gpu,
      refs: entry.refs,
      labels: [...entry.labels.keys()],
      loaded: entry.loaded !== undefined,
    })),
  };
}

/**
 * The shared Llama for a GPU setting. `gpu: 'auto'` uses a GPU when node-llama-cpp finds one, else the CPU.
 * `build: 'auto'` loads nerion's patched build of llama.cpp when `nerion doctor --build-llama` made one
 * (llama-build.ts), else node-llama-cpp's prebuilt binaries; `'prebuilt'` always the prebuilt ones.
 */
export function sharedLlama(gpu: GpuSetting, build: LlamaBuildSetting = 'auto'): Promise<Llama> {
  const key = `${String(gpu)}/${build}`;
  let pending = llamas.get(key);
  if (!pending) {
    pending = (async () => {
      let engine: NodeLlamaCpp;
      try {
        engine = await import('node-llama-cpp');
      } catch (error) {
        throw new NerionError(
          'BINDINGS_UNAVAILABLE',
          `node-llama-cpp could not be imported (${describeError(error)}) — reinstall it with \`npm i -E node-llama-cpp@3.21.1\`.`,
          { fix: { command: ['npm', 'i', '-E', 'node-llama-cpp@3.21.1'] }, cause: error },
        );
      }
      try {
        // maxThreads 0: the backend always passes its own thread count, and a user's override is honoured as given.
        return await engine.getLlama({
          gpu,
          maxThreads: 0,
          logLevel: engine.LlamaLogLevel.error,
          progressLogs: false,
          ...llamaBuildGetLlamaOptions(build),
        });
      } catch (error) {
        throw new NerionError(
          'BINDINGS_UNAVAILABLE',
          `The llama.cpp bindings of node-llama-cpp did not load (${describeError(error)}) — reinstall node-llama-cpp (\`npm i -E node-llama-cpp@3.21.1\`) so its prebuilt binaries for ${process.platform}-${process.arch} are present.`,
          { fix: { command: ['npm', 'i', '-E', 'node-llama-cpp@3.21.1'] }, cause: error },
        );
      }
    })();
    llamas.set(key, pending);
    pending.catch(() => llamas.delete(key)); // a failed start is retried by the next caller; the caller still gets the error
  }
  return pending;
}

/** Which binaries node-llama-cpp loads on the CPU for a build setting: `localBuild` (nerion's) or `prebuilt`. */
export async function llamaBindingsInUse(build: LlamaBuildSetting = 'auto'): Promise<string> {
  return (await sharedLlama(false, build)).buildType;
}

/** Memory this process may use: the smaller of physical memory and a cgroup limit. */
export function detectMemoryLimitBytes(): number {
  const limits = [totalmem()];
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EACCES')
        continue;
      throw error;
    }
    const value = Number(text);
    if (Number.isFinite(value) && value > 0 && value < 2 ** 60) limits.push(value);
  }
  return Math.min(...limits);
}

export interface LeaseOptions {
  path: string;
  label: string;
  gpu: GpuSetting;
  /** Which llama.cpp binaries (default 'auto'). */
  build?: LlamaBuildSetting;
  /** Memory budget for the weights; defaults to detectMemoryLimitBytes(). */
  memoryLimitBytes?: number;
}

/** A backend's share of a model. `get()` loads on first use; `release()` gives the share back. */
export class ModelLease {
  private released = false;

  private constructor(
    private readonly entry: ModelEntry,
    readonly label: string,
    private readonly memoryLimitBytes: number | undefined,
  ) {}

  static acquire(options: LeaseOptions): ModelLease {
    const path = resolve(options.path);
    const build = options.build ?? 'auto';
    const key = `${options.gpu}\u0000${build}\u0000${path}`;
    let entry = models.get(key);
    if (!entry) {
      entry = { key, path, gpu: options.gpu, build, refs: 0, labels: new Map(), loading: undefined, loaded: undefined };
      models.set(key, entry);
    }
    entry.refs += 1;
    entry.labels.set(options.label, (entry.labels.get(options.label) ?? 0) + 1);
    return new ModelLease(entry, options.label, options.memoryLimitBytes);
  }

  get path(): string {
    return this.entry.path;
  }

  /** The loaded model, if it is loaded already (no I/O). */
  get current(): LoadedModel | undefined {
    return this.entry.loaded;
  }

  /** Other model names served from the same file right now. */
  otherLabels(): string[] {
    return [...this.entry.labels.keys()].filter((label) => label !== this.label);
  }

  get(): Promise<LoadedModel> {
    if (this.released)
      return Promise.reject(
        new NerionError('BACKEND_CLOSED', `The llama_cpp backend for "${this.label}" was closed; create a new one.`),
      );
    const entry = this.entry;
    if (entry.loaded) return Promise.resolve(entry.loaded);
    if (!entry.loading) {
      entry.loading = loadModel(entry, this.label, this.memoryLimitBytes).then(
        (loaded) => {
          entry.loaded = loaded;
          return loaded;
        },
        (error: unknown) => {
          entry.loading = undefined; // the next call checks the file again (it may have been fixed)
          throw error;
        },
      );
    }
    return entry.loading;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const entry = this.entry;
    entry.refs -= 1;
    const count = (entry.labels.get(this.label) ?? 1) - 1;
    if (count > 0) entry.labels.set(this.label, count);
    else entry.labels.delete(this.label);
    if (entry.refs > 0) return;
    if (models.get(entry.key) === entry) models.delete(entry.key);
    const loading = entry.loading;
    entry.loading = undefined;
    entry.loaded = undefined;
    if (!loading) return;
    // A load that failed left nothing to release; its error already reached the caller that waited for it.
    const loaded = await loading.then(
      (value) => value,
      () => undefined,
    );
    if (loaded && !loaded.model.disposed) {
      await loaded.model.dispose();
      counters.modelDisposals += 1;
    }
  }
}

/** Everything that can be checked without loading: the file, the header, the weights' extent, the memory. */
export async function checkModelFile(
  path: string,
  label: string,
  llama: Llama,
  memoryLimitBytes: number | undefined,
): Promise<{ summary: GgufSummary; insights: GgufInsights }> {
  const { sizeBytes } = await checkModelPath(path, label);
  await checkGgufMagic(path, label);
  const { summary, fileInfo } = await readGgufSummary(path, sizeBytes, label);
  const insights = await checkWeightsInFile(summary, fileInfo, llama, label);
  if (llama.gpu === false) {
    const needed = insights.estimateModelResourceRequirements({ gpuLayers: 0 }).cpuRam;
    const limit = memoryLimitBytes ?? detectMemoryLimitBytes();
    if (needed > limit) {
      throw new NerionError(
        'MODEL_LOAD_FAILED',
        `${path} needs about ${formatBytes(needed)} of memory but this process can use ${formatBytes(limit)} — choose a smaller quantisation of "${label}" (e.g. Q4_K_M) or a machine with more memory.`,
        {
          data: { path, model: label, neededBytes: needed, limitBytes: limit },
        },
      );
    }
  }
  return { summary, insights };
}

async function loadModel(entry: ModelEntry, label: string, memoryLimitBytes: number | undefined): Promise<LoadedModel> {
  const started = performance.now();
  await checkModelPath(entry.path, label); // a missing file is reported before llama.cpp is started
  const llama = await sharedLlama(entry.gpu, entry.build);
  const { summary, insights } = await checkModelFile(entry.path, label, llama, memoryLimitBytes);
  counters.modelLoads += 1;
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: entry.path, gpuLayers: llama.gpu === false ? 0 : 'auto' });
  } catch (error) {
    throw new NerionError(
      'MODEL_LOAD_FAILED',
      `llama.cpp could not load ${entry.path} (${describeError(error)}) — the file may be damaged or of an unsupported architecture (${summary.architecture ?? 'unknown'}); re-download it with \`${ensureCommand(label)}\`.`,
      {
        fix: { command: ensureArgv(label) },
        cause: error,
        data: { path: entry.path, model: label, architecture: summary.architecture },
      },
    );
  }
  return { llama, model, summary, insights, loadMs: performance.now() - started };
}
