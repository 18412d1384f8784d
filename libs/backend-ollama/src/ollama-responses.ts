/**
 * What nerion reads from Ollama's replies (docs/api.md in ollama/ollama), parsed with valibot.
 * Response schemas take only the fields the backend uses; anything else Ollama adds is ignored.
 */
import * as v from 'valibot';

const count = v.optional(v.number());

/** One NDJSON record of a streamed /api/chat (`message.content`) or /api/generate (`response`) reply. */
export const GenerationRecordSchema = v.object({
  model: v.optional(v.string()),
  message: v.optional(v.object({ content: v.optional(v.string(), '') })),
  response: v.optional(v.string()),
  done: v.boolean(),
  done_reason: v.optional(v.string()),
  total_duration: count,
  load_duration: count,
  prompt_eval_count: count,
  prompt_eval_duration: count,
  eval_count: count,
  eval_duration: count,
});
export type GenerationRecord = v.InferOutput<typeof GenerationRecordSchema>;

export const VersionResponseSchema = v.object({ version: v.string() });

export const TagsResponseSchema = v.object({
  models: v.array(
    v.object({
      name: v.string(),
      model: v.optional(v.string()),
      size: v.optional(v.number()),
      digest: v.optional(v.string()),
      modified_at: v.optional(v.string()),
      details: v.optional(
        v.object({
          family: v.optional(v.nullable(v.string())),
          parameter_size: v.optional(v.string()),
          quantization_level: v.optional(v.string()),
        }),
      ),
    }),
  ),
});
export type TagsResponse = v.InferOutput<typeof TagsResponseSchema>;

/** One NDJSON record of /api/pull: a status line, with digest/total/completed while a layer downloads. */
export const PullRecordSchema = v.object({
  status: v.string(),
  digest: v.optional(v.string()),
  total: v.optional(v.number()),
  completed: v.optional(v.number()),
});

/** Parses `value` or throws with the issue, for the caller to wrap with what was being read. */
export function parseResponse<Schema extends v.GenericSchema>(
  schema: Schema,
  value: unknown,
  what: string,
): v.InferOutput<Schema> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join('.') ?? '';
  throw new Error(`${what} is not shaped as Ollama documents it${path ? ` at ${path}` : ''}: ${issue.message}`);
}
