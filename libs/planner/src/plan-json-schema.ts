import { toJsonSchema } from '@valibot/to-json-schema';
import type { JsonSchema } from '@nerion/backend-core';
import { ACTION_SCHEMAS, PlanDraftSchema, type ActionKind } from './plan-schema.js';

let draftSchema: JsonSchema | undefined;
const payloadSchemas = new Map<ActionKind, JsonSchema>();

/**
 * The JSON Schema of what a model must produce (a plan draft), generated once from the valibot schema and
 * reused for every backend's constraint. Custom checks (repo jail, limits) are not expressible in it; the
 * result is always validated with the valibot schema afterwards.
 */
export function planDraftJsonSchema(): JsonSchema {
  draftSchema ??= forDecoding(stripDialect(toJsonSchema(PlanDraftSchema, { errorMode: 'ignore' }) as JsonSchema));
  return draftSchema;
}

/** The JSON Schema of one action kind's `{kind, payload}` object (for prompts). */
export function actionJsonSchema(kind: ActionKind): JsonSchema {
  let schema = payloadSchemas.get(kind);
  if (!schema) {
    schema = stripDialect(toJsonSchema(ACTION_SCHEMAS[kind], { errorMode: 'ignore' }) as JsonSchema);
    payloadSchemas.set(kind, schema);
  }
  return schema;
}

/** Bounds above this are left out of the decoding constraint (grammar engines expand them into repetitions). */
export const DECODING_BOUND_LIMIT = 64;

/**
 * Drops the large `maxLength`/`maxItems` bounds (300 KB strings, 200 actions) from the constraint: llama.cpp
 * expands each into a repetition rule and refuses grammars that large. The valibot schema still enforces them
 * on the result.
 */
function forDecoding(schema: JsonSchema): JsonSchema {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if ((key === 'maxLength' || key === 'maxItems') && typeof item === 'number' && item > DECODING_BOUND_LIMIT)
        continue;
      result[key] = visit(item);
    }
    return result;
  };
  return visit(schema) as JsonSchema;
}

function stripDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
