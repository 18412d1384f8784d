import { describe, expect, it } from '@jest/globals';
import { NerionError } from './errors.js';
import { extractJsonText, parseJson, parseJsonOutput, validateJsonSchema } from './json-output.js';

const schema = {
  type: 'object',
  properties: {
    kind: { enum: ['a', 'b'] },
    count: { type: 'integer', minimum: 0 },
    items: { type: 'array', items: { type: 'string', maxLength: 3 }, maxItems: 2 },
  },
  required: ['kind', 'count'],
  additionalProperties: false,
};

describe('validateJsonSchema', () => {
  it('accepts a matching value', () => {
    expect(validateJsonSchema(schema, { kind: 'a', count: 2, items: ['x'] })).toEqual([]);
  });

  it('reports the path of every failing field', () => {
    const issues = validateJsonSchema(schema, { kind: 'c', count: 1.5, items: ['long', 'y', 'z'], extra: 1 });
    expect(issues.map((issue) => issue.path).sort()).toEqual(
      ['$.count', '$.extra', '$.items', '$.items[0]', '$.kind'].sort(),
    );
    expect(validateJsonSchema(schema, {}).map((issue) => issue.path)).toEqual(['$.kind', '$.count']);
  });

  it('handles anyOf/oneOf and const', () => {
    const union = {
      oneOf: [{ type: 'object', properties: { k: { const: 'x' } }, required: ['k'] }, { type: 'string' }],
    };
    expect(validateJsonSchema(union, 'ok')).toEqual([]);
    expect(validateJsonSchema(union, { k: 'x' })).toEqual([]);
    expect(validateJsonSchema(union, { k: 'y' })).toHaveLength(1);
  });
});

describe('parseJson', () => {
  it('parses JSON, and turns a syntax error into the caller’s NerionError with the parser’s error as cause', () => {
    expect(parseJson('{"a":[1]}', () => new NerionError('INTERNAL', 'unused'))).toEqual({ a: [1] });
    let cause: unknown;
    const run = (): unknown =>
      parseJson('{not json', (error) => {
        cause = error;
        return new NerionError('CACHE_ERROR', `state.json is not JSON (${error.message})`, { cause: error });
      });
    expect(run).toThrow(expect.objectContaining({ code: 'CACHE_ERROR', cause: expect.any(SyntaxError) }));
    expect(cause).toBeInstanceOf(SyntaxError);
  });
});

describe('parseJsonOutput', () => {
  it('returns the parsed value, or INVALID_OUTPUT naming the engine and the failing field', () => {
    expect(parseJsonOutput('{"kind":"b","count":0}', schema, 'test engine')).toEqual({ kind: 'b', count: 0 });
    for (const [text, fragment] of [
      ['not json', 'not JSON'],
      ['{"kind":"z","count":0}', '$.kind'],
    ] as const) {
      try {
        parseJsonOutput(text, schema, 'test engine');
        throw new Error('expected INVALID_OUTPUT');
      } catch (error) {
        expect(NerionError.hasCode(error, 'INVALID_OUTPUT')).toBe(true);
        expect((error as Error).message).toContain('test engine');
        expect((error as Error).message).toContain(fragment);
      }
    }
  });
});

describe('extractJsonText (the one JSON extraction from model text)', () => {
  it('takes the JSON out of fences and prose, and leaves plain JSON alone', () => {
    expect(extractJsonText('```json\n{"a": 1}\n```')).toBe('{"a": 1}');
    expect(extractJsonText('Here you go: {"a": [1]} hope it helps')).toBe('{"a": [1]}');
    expect(extractJsonText(' [1, 2] ')).toBe('[1, 2]');
    expect(extractJsonText('Plan [draft]: {"b": 2}')).toBe('{"b": 2}');
    expect(extractJsonText('no json')).toBe('no json');
  });
});
