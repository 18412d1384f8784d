import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fixturePaths } from '../../../../tools/fixtures/fixture-paths.mjs';
import { parseKeepAlive, startLocalOllamaServer, type LocalOllamaServer } from './local-ollama-server.js';

const TAG = 'nerion-tiny:latest';
const SCHEMA = {
  type: 'object',
  properties: { kind: { enum: ['create_file', 'rename_symbol'] }, done: { type: 'boolean' } },
  required: ['kind', 'done'],
  additionalProperties: false,
};
const MESSAGES = [{ role: 'user', content: 'Write a function.' }];

async function post(server: LocalOllamaServer, path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function ndjson(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('protocol-faithful local Ollama stand-in (not Ollama; real GGUF via node-llama-cpp)', () => {
  let server: LocalOllamaServer;
  const gguf = fixturePaths().tinyLlama;

  beforeAll(async () => {
    server = await startLocalOllamaServer({
      models: { 'nerion-tiny': gguf },
      pullable: { 'nerion-pullable:7b': gguf },
      version: '0.6.5',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers GET / and /api/version like Ollama, on 127.0.0.1', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(server.url)).text()).toBe('Ollama is running');
    expect(await (await fetch(`${server.url}/api/version`)).json()).toEqual({ version: '0.6.5' });
    const unknown = await fetch(`${server.url}/api/nope`);
    expect(unknown.status).toBe(404);
  });

  it('lists installed models in /api/tags with a normalised tag, the GGUF sha256 as digest and Ollama details', async () => {
    const body = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: Record<string, unknown>[] };
    expect(body.models).toHaveLength(1);
    const entry = body.models[0]!;
    expect(entry).toMatchObject({
      name: TAG,
      model: TAG,
      size: readFileSync(gguf).length,
      digest: createHash('sha256').update(readFileSync(gguf)).digest('hex'),
      details: { format: 'gguf', family: 'llama', quantization_level: 'F32' },
    });
    expect(Number.isNaN(Date.parse(entry.modified_at as string))).toBe(false);
    expect((entry.details as { parameter_size: string }).parameter_size).toMatch(/^\d+(\.\d+)?[KMB]$/);
  });

  it('streams /api/chat as NDJSON and ends with the done record carrying Ollama counters in nanoseconds', async () => {
    const response = await post(server, '/api/chat', {
      model: 'nerion-tiny',
      messages: MESSAGES,
      options: { num_ctx: 2048, num_predict: 12, temperature: 0 },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const records = await ndjson(response);
    const last = records[records.length - 1]!;
    for (const record of records.slice(0, -1)) {
      expect(record).toMatchObject({ model: 'nerion-tiny', done: false, message: { role: 'assistant' } });
    }
    expect(last).toMatchObject({ done: true, message: { role: 'assistant', content: '' } });
    expect(['stop', 'length']).toContain(last.done_reason);
    for (const counter of [
      'total_duration',
      'load_duration',
      'prompt_eval_count',
      'prompt_eval_duration',
      'eval_count',
      'eval_duration',
    ]) {
      expect(Number.isInteger(last[counter])).toBe(true);
    }
    expect(last.eval_count as number).toBeGreaterThan(0);
    expect(last.eval_count as number).toBeLessThanOrEqual(12);
    expect(last.prompt_eval_count as number).toBeGreaterThan(0);
    expect(last.total_duration as number).toBeGreaterThanOrEqual(last.eval_duration as number);
  });

  it('answers stream:false with one JSON object whose content equals the streamed text (greedy)', async () => {
    const request = { model: TAG, messages: MESSAGES, options: { num_predict: 10, temperature: 0 } };
    const streamed = (await ndjson(await post(server, '/api/chat', request)))
      .map((record) => (record.message as { content: string }).content)
      .join('');
    const single = await post(server, '/api/chat', { ...request, stream: false });
    expect(single.headers.get('content-type')).toContain('application/json');
    const body = (await single.json()) as { message: { content: string }; done: boolean; eval_count: number };
    expect(body.done).toBe(true);
    expect(body.message.content).toBe(streamed);
  });

  it('serves /api/generate in raw mode with `response` records', async () => {
    const records = await ndjson(
      await post(server, '/api/generate', {
        model: TAG,
        prompt: 'function add(',
        raw: true,
        options: { num_predict: 6, temperature: 0 },
      }),
    );
    expect(records[records.length - 1]).toMatchObject({ done: true, response: '' });
    expect(records.every((record) => typeof record.response === 'string')).toBe(true);
  });

  it('answers Ollama error bodies: 404 for an unknown model, 400 for a missing model or a bad body', async () => {
    const unknown = await post(server, '/api/chat', { model: 'no-such-model', messages: MESSAGES });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'model "no-such-model" not found, try pulling it first' });
    const missing = await post(server, '/api/chat', { messages: MESSAGES });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'model is required' });
    const bad = await fetch(`${server.url}/api/chat`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect(typeof ((await bad.json()) as { error: unknown }).error).toBe('string');
  });

  it('honours a JSON schema in `format` with a grammar', async () => {
    const response = await post(server, '/api/chat', {
      model: TAG,
      messages: MESSAGES,
      format: SCHEMA,
      stream: false,
      options: { num_predict: 60, temperature: 0 },
    });
    const body = (await response.json()) as { message: { content: string } };
    const value = JSON.parse(body.message.content) as { kind: string; done: boolean };
    expect(['create_file', 'rename_symbol']).toContain(value.kind);
    expect(typeof value.done).toBe('boolean');
  });

  it('like Ollama, ends a `format` reply cut off by num_predict with done_reason "length" and the partial JSON (no error)', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const response = await post(server, '/api/chat', {
      model: TAG,
      messages: MESSAGES,
      format: schema,
      stream: false,
      options: { num_predict: 5, temperature: 0 },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { message: { content: string }; done_reason: string; eval_count: number };
    expect(body.done_reason).toBe('length');
    expect(body.eval_count).toBe(5);
    expect(() => JSON.parse(body.message.content)).toThrow();
  });

  it('reports the loaded model in /api/ps with num_ctx clamped to the trained context, and keep_alive 0 unloads it', async () => {
    await post(server, '/api/chat', {
      model: TAG,
      messages: MESSAGES,
      options: { num_ctx: 65_536, num_predict: 2 },
      keep_alive: '10m',
    }).then((response) => response.text());
    const ps = (await (await fetch(`${server.url}/api/ps`)).json()) as {
      models: { name: string; context_length: number; expires_at: string }[];
    };
    expect(ps.models).toHaveLength(1);
    expect(ps.models[0]).toMatchObject({ name: TAG, context_length: 2048 });
    expect(Date.parse(ps.models[0]!.expires_at) - Date.now()).toBeGreaterThan(8 * 60_000);
    const unload = await post(server, '/api/chat', { model: TAG, messages: [], keep_alive: 0 });
    expect(await unload.json()).toMatchObject({ done: true, done_reason: 'unload' });
    expect(((await (await fetch(`${server.url}/api/ps`)).json()) as { models: unknown[] }).models).toEqual([]);
  });

  it('shows model details and model_info read from the GGUF in /api/show', async () => {
    const body = (await (await post(server, '/api/show', { model: 'nerion-tiny' })).json()) as Record<string, unknown>;
    expect(body.details).toMatchObject({ format: 'gguf', family: 'llama' });
    expect(body.model_info).toMatchObject({
      'general.architecture': 'llama',
      'llama.context_length': 2048,
      'llama.block_count': 2,
    });
    expect((await post(server, '/api/show', { model: 'nope' })).status).toBe(404);
  });

  it('streams /api/pull progress for a model it knows, then lists it; an unknown name fails like Ollama', async () => {
    const records = await ndjson(await post(server, '/api/pull', { model: 'nerion-pullable:7b' }));
    const statuses = records.map((record) => record.status);
    expect(statuses[0]).toBe('pulling manifest');
    expect(statuses.slice(-4)).toEqual([
      'verifying sha256 digest',
      'writing manifest',
      'removing any unused layers',
      'success',
    ]);
    const layer = records.filter(
      (record) => record.digest === `sha256:${createHash('sha256').update(readFileSync(gguf)).digest('hex')}`,
    );
    expect(layer[0]!.completed).toBeUndefined();
    expect(layer[layer.length - 1]).toMatchObject({
      completed: readFileSync(gguf).length,
      total: readFileSync(gguf).length,
    });
    expect(server.installedModels()).toContain('nerion-pullable:7b');

    const unknown = await ndjson(await post(server, '/api/pull', { model: 'no-such-model' }));
    expect(unknown).toEqual([{ status: 'pulling manifest' }, { error: 'pull model manifest: file does not exist' }]);
    const single = await post(server, '/api/pull', { model: 'no-such-model', stream: false });
    expect(single.status).toBe(500);
    expect(await single.json()).toEqual({ error: 'pull model manifest: file does not exist' });
  });

  it('DELETE /api/delete removes a model like Ollama: 200 with no body, gone from /api/tags; unknown 404, missing name 400', async () => {
    await ndjson(await post(server, '/api/pull', { model: 'nerion-pullable:7b' }));
    const del = (body: unknown): Promise<Response> =>
      fetch(`${server.url}/api/delete`, {
        method: 'DELETE',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const deleted = await del({ model: 'nerion-pullable:7b' });
    expect(deleted.status).toBe(200);
    expect(await deleted.text()).toBe('');
    expect(server.installedModels()).not.toContain('nerion-pullable:7b');
    const again = await del({ model: 'nerion-pullable:7b' });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: "model 'nerion-pullable:7b' not found" });
    expect((await del({})).status).toBe(400);
  });

  it('can die in the middle of a stream (the socket is destroyed, no done record)', async () => {
    server.dieMidStreamOnce(2);
    const response = await post(server, '/api/chat', {
      model: TAG,
      messages: MESSAGES,
      options: { num_predict: 200, temperature: 0 },
    });
    await expect(response.text()).rejects.toThrow();
    // The next request is served normally.
    const after = await post(server, '/api/chat', {
      model: TAG,
      messages: MESSAGES,
      stream: false,
      options: { num_predict: 2 },
    });
    expect(after.status).toBe(200);
  });

  it('parses keep_alive like Ollama: seconds, Go durations, negative = forever', () => {
    expect(parseKeepAlive(undefined)).toBe(300_000);
    expect(parseKeepAlive(30)).toBe(30_000);
    expect(parseKeepAlive('1h30m')).toBe(5_400_000);
    expect(parseKeepAlive('-1')).toBe(Infinity);
    expect(() => parseKeepAlive('soon')).toThrow(/invalid duration/);
  });
});
