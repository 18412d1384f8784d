/**
 * The stand-in's loaded models ("slots"): one engine per tag at one context size (a new size reloads it,
 * as Ollama does), expiry after keep_alive, and one generation at a time (OLLAMA_NUM_PARALLEL=1).
 */
import type { CoderBackend } from '@nerion/backend-core';
import type { GgufModelCard } from './gguf-model-card.js';
import type { OllamaEngineFactory } from './local-ollama-server.js';

export interface InstalledModel {
  tag: string;
  card: GgufModelCard;
  modifiedAt: string;
}

export interface LoadedModel {
  tag: string;
  contextSize: number;
  engine: Promise<CoderBackend>;
  expiresAt: Date;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class ModelSlots {
  private readonly slots = new Map<string, LoadedModel>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly engineFactory: OllamaEngineFactory,
    private readonly threads: number,
  ) {}

  /** The loaded models, as /api/ps lists them. */
  loaded(): IterableIterator<LoadedModel> {
    return this.slots.values();
  }

  async unloadAll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((tag) => this.unload(tag)));
  }

  // Like Ollama with OLLAMA_NUM_PARALLEL=1: one generation at a time, the rest queue.
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async unload(tag: string): Promise<void> {
    const entry = this.slots.get(tag);
    if (!entry) return;
    this.slots.delete(tag);
    if (entry.timer) clearTimeout(entry.timer);
    const engine = await entry.engine.catch(() => undefined);
    await engine?.close();
  }

  scheduleExpiry(entry: LoadedModel, keepAliveMs: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.expiresAt = new Date(Number.isFinite(keepAliveMs) ? Date.now() + keepAliveMs : 8.64e15);
    if (Number.isFinite(keepAliveMs)) {
      entry.timer = setTimeout(() => void this.unload(entry.tag), keepAliveMs);
      entry.timer.unref?.();
    }
  }

  /** The engine for `model` at `numCtx` (clamped to the trained context); a different size reloads the model, as Ollama does. */
  async engineFor(model: InstalledModel, numCtx: number): Promise<{ engine: CoderBackend; entry: LoadedModel }> {
    const contextSize = Math.max(16, Math.min(numCtx, model.card.contextLength));
    let entry = this.slots.get(model.tag);
    if (entry && entry.contextSize !== contextSize) {
      await this.unload(model.tag);
      entry = undefined;
    }
    if (!entry) {
      entry = {
        tag: model.tag,
        contextSize,
        engine: this.engineFactory({ tag: model.tag, modelPath: model.card.path, contextSize, threads: this.threads }),
        expiresAt: new Date(),
        timer: undefined,
      };
      this.slots.set(model.tag, entry);
    }
    try {
      return { engine: await entry.engine, entry };
    } catch (error) {
      this.slots.delete(model.tag);
      throw error;
    }
  }
}
