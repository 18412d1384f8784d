import { escapeControlCharacters, serverText } from './terminal-text.js';
import type { JsonSchema } from './coder-backend.js';
import { NerionError } from './errors.js';

export interface JsonSchemaIssue {
  /** JSON-pointer-like path of the failing value, `$` for the root (e.g. `$.actions[2].payload.path`). */
  path: string;
  message: string;
}

/**
 * Validates `value` against the subset of JSON Schema that nerion's constraints use:
 * type, properties, required, additionalProperties, items, prefixItems, enum, const, anyOf, oneOf,
 * minItems/maxItems, minLength/maxLength, minimum/maximum, pattern. Unknown keywords are ignored.
 */
export function validateJsonSchema(schema: JsonSchema, value: unknown, path = '$'): JsonSchemaIssue[] {
  const issues: JsonSchemaIssue[] = [];
  const fail = (message: string, at = path): void => {
    issues.push({ path: at, message });
  };

  if ('const' in schema && !deepEqual(schema.const, value)) fail(`must equal ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => deepEqual(option, value))) {
    fail(`must be one of ${schema.enum.map((option) => JSON.stringify(option)).join(', ')}`);
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const options = schema[keyword];
    if (Array.isArray(options)) {
      const matching = options.filter(
        (option) => validateJsonSchema(option as JsonSchema, value, path).length === 0,
      ).length;
      if (matching === 0 || (keyword === 'oneOf' && matching > 1))
        fail(`must match ${keyword === 'oneOf' ? 'exactly one' : 'at least one'} of ${options.length} alternatives`);
    }
  }

  const type = schema.type;
  if (type !== undefined) {
    const types = Array.isArray(type) ? (type as string[]) : [type as string];
    if (!types.some((candidate) => hasType(candidate, value))) {
      fail(`must be ${types.join(' or ')}, got ${describeType(value)}`);
      return issues;
    }
  }

  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength)
      fail(`must have at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength)
      fail(`must have at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      fail(`must match /${schema.pattern}/`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`must be >= ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`must be <= ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      fail(`must have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      fail(`must have at most ${schema.maxItems} items`);
    const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as JsonSchema[]) : [];
    value.forEach((item, index) => {
      const itemSchema = prefix[index] ?? (isSchema(schema.items) ? schema.items : undefined);
      if (itemSchema) issues.push(...validateJsonSchema(itemSchema, item, `${path}[${index}]`));
    });
  }
  if (isPlainObject(value)) {
    const properties = isSchema(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
    if (Array.isArray(schema.required)) {
      for (const key of schema.required as string[]) if (!(key in value)) fail('is required', `${path}.${key}`);
    }
    for (const [key, child] of Object.entries(value)) {
      const childSchema = properties[key];
      if (childSchema) issues.push(...validateJsonSchema(childSchema, child, `${path}.${key}`));
      else if (schema.additionalProperties === false) fail('is not allowed here', `${path}.${key}`);
      else if (isSchema(schema.additionalProperties))
        issues.push(...validateJsonSchema(schema.additionalProperties, child, `${path}.${key}`));
    }
  }
  return issues;
}

/**
 * `JSON.parse`, with a syntax error turned into the caller's NerionError (a file, a plan, a model's output each
 * say what is wrong and what fixes it in their own words; `onError` gets the parser's error as the cause).
 */
export function parseJson(text: string, onError: (error: Error) => NerionError): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw onError(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Parses a model's text as JSON and validates it against `schema`.
 * Throws INVALID_OUTPUT with the failing field's path; `context` names the engine for the message.
 */
export function parseJsonOutput(text: string, schema: JsonSchema, context: string): unknown {
  const value = parseJson(
    text,
    (error) =>
      new NerionError(
        'INVALID_OUTPUT',
        `${context} returned text that is not JSON (${serverText(error.message, 200)}); the output began: ${escapeControlCharacters(JSON.stringify(text.slice(0, 120)))}`,
        { cause: error, data: { output: text.slice(0, 2000) } },
      ),
  );
  const issues = validateJsonSchema(schema, value);
  if (issues.length > 0) {
    const first = issues[0];
    throw new NerionError(
      'INVALID_OUTPUT',
      `${context} returned JSON that does not match the schema: ${serverText(first.path, 200)} ${serverText(first.message, 300)}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}.`,
      {
        data: { issues: issues.slice(0, 20), output: text.slice(0, 2000) },
      },
    );
  }
  return value;
}

function isSchema(value: unknown): value is JsonSchema {
  return isPlainObject(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return true;
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function deepEqual(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

/**
 * Where JSON may sit in a model's reply, most literal first: the whole (trimmed) reply, the first fenced code
 * block, and the span from the first `{` to the last `}` (and `[` … `]`) — prose around one value is dropped.
 */
export function jsonCandidates(text: string): string[] {
  const trimmed = text.trim();
  const fenced = /```(?:json)?\s*([\s\S]*?)```/iu.exec(trimmed)?.[1]?.trim();
  const span = (open: string, close: string): string | undefined => {
    const start = trimmed.indexOf(open);
    const end = trimmed.lastIndexOf(close);
    return start >= 0 && end > start ? trimmed.slice(start, end + 1) : undefined;
  };
  const candidates = [trimmed, fenced, span('{', '}'), span('[', ']')].filter(
    (candidate): candidate is string => candidate !== undefined && candidate.length > 0,
  );
  return [...new Set(candidates)];
}

/** The JSON text inside a model's reply: the first candidate (see jsonCandidates) that parses, else the trimmed reply. */
export function extractJsonText(text: string): string {
  for (const candidate of jsonCandidates(text)) {
    try {
      JSON.parse(candidate);
      return candidate;
    } catch {
      // the next candidate
    }
  }
  return text.trim();
}
