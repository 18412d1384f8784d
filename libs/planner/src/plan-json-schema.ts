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
  draftSchema ??= stripDialect(toJsonSchema(PlanDraftSchema, { errorMode: 'ignore' }) as JsonSchema);
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

function stripDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
