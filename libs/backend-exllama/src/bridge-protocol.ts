/**
 * The JSON-lines protocol between this package and `python/nerion_exl_bridge.py`.
 * Requests: `{id, op: "hello" | "load" | "generate" | "cancel" | "shutdown", …}`.
 * Events:   `{id, event: "ready" | "delta" | "done" | "error", …}` — parsed here with valibot.
 */
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';

/** The bridge script shipped in this package (`python/`, listed in package.json "files"). */
export const BRIDGE_SCRIPT_PATH = fileURLToPath(new URL('../python/nerion_exl_bridge.py', import.meta.url));

export const BRIDGE_PROTOCOL_VERSION = 1;

export type BridgeOperation = 'hello' | 'load' | 'generate' | 'cancel' | 'shutdown';

export const BridgeEventSchema = v.looseObject({
  id: v.nullable(v.string()),
  event: v.picklist(['ready', 'delta', 'done', 'error']),
});
export type BridgeEvent = v.InferOutput<typeof BridgeEventSchema> & Record<string, unknown>;

export const HelloSchema = v.object({
  protocol: v.number(),
  python: v.string(),
  executable: v.optional(v.nullable(v.string())),
  exllamav2: v.object({
    available: v.boolean(),
    version: v.optional(v.string()),
    error: v.optional(v.string()),
    missing: v.optional(v.array(v.string())),
  }),
  installHint: v.optional(v.nullable(v.string())),
  jsonFilter: v.object({ available: v.boolean(), engine: v.optional(v.string()) }),
  chatTemplates: v.optional(v.boolean()),
});
export type BridgeHello = v.InferOutput<typeof HelloSchema>;

export const LoadedSchema = v.object({
  model: v.string(),
  modelDir: v.string(),
  loadMs: v.number(),
  maxSeqLen: v.optional(v.nullable(v.number())),
});
export type BridgeLoaded = v.InferOutput<typeof LoadedSchema>;

export const DeltaSchema = v.object({ text: v.string() });

export const DoneSchema = v.object({
  finishReason: v.picklist(['stop', 'length']),
  eosReason: v.optional(v.string()),
  cancelled: v.optional(v.boolean()),
  promptTokens: v.optional(v.number()),
  completionTokens: v.optional(v.number()),
  timeToFirstTokenMs: v.optional(v.number()),
  totalMs: v.optional(v.number()),
  prefillMs: v.optional(v.number()),
  generateMs: v.optional(v.number()),
  constrained: v.optional(v.boolean()),
  warnings: v.optional(v.array(v.string())),
});
export type BridgeDone = v.InferOutput<typeof DoneSchema>;

export const ErrorEventSchema = v.object({ code: v.string(), message: v.string() });
