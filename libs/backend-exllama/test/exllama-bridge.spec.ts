/**
 * The bridge protocol and the backend's failure paths, running the real bridge script under python3
 * against the pure-Python STAND-IN for the exllamav2 module (test/python-stand-in).
 */
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { collectStream, type GenerateResult, type StreamPart } from '@nerion/backend-core';
import { rejection } from '@nerion/test-support';
import {
  BRIDGE_SCRIPT_PATH,
  ExllamaBridgeBackend,
  createExllamaBackend,
  type ExllamaBackendSettings,
} from '../src/index.js';
import { PYTHON, bridgeEnv, isAlive, makeModelDir, removeModelDirs } from './stand-in.js';

// Each test spawns Python bridges; on a loaded 2-core machine that is slower than Jest's 5 s default.
jest.setTimeout(30_000);
afterAll(() => removeModelDirs());

const SCHEMA = {
  type: 'object',
  properties: { kind: { enum: ['create_file', 'rename_symbol'] }, done: { type: 'boolean' } },
  required: ['kind', 'done'],
  additionalProperties: false,
};
const MESSAGES = [{ role: 'user' as const, content: 'Write add(a, b).' }];

/** A raw bridge child: send requests, read events in order. */
class RawBridge {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly events: Array<Record<string, unknown>> = [];
  private waiter: (() => void) | undefined;
  stderr = '';

  constructor(env: Record<string, string | undefined>) {
    this.child = spawn(PYTHON, ['-u', '-B', BRIDGE_SCRIPT_PATH], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.events.push(JSON.parse(line) as Record<string, unknown>);
      this.waiter?.();
    });
  }

  send(request: Record<string, unknown> | string): void {
    this.child.stdin.write(`${typeof request === 'string' ? request : JSON.stringify(request)}\n`);
  }

  /** Events up to and including the first one that `last` accepts. */
  async until(last: (event: Record<string, unknown>) => boolean): Promise<Array<Record<string, unknown>>> {
    const taken: Array<Record<string, unknown>> = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      while (this.events.length > 0) {
        const event = this.events.shift()!;
        taken.push(event);
        if (last(event)) return taken;
      }
      if (Date.now() > deadline)
        throw new Error(`no matching event; got ${JSON.stringify(taken)}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200).unref();
      });
    }
  }

  exited(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }
}

function backendWith(
  settings: Partial<ExllamaBackendSettings> & { env?: Record<string, string | undefined> },
): ExllamaBridgeBackend {
  const backend = createExllamaBackend({
    model: 'tiny-exl2',
    modelDir: makeModelDir(),
    python: PYTHON,
    env: bridgeEnv(),
    ...settings,
  });
  expect(backend).toBeInstanceOf(ExllamaBridgeBackend);
  return backend as ExllamaBridgeBackend;
}

describe('the bridge protocol (python3 running nerion_exl_bridge.py with the pure-Python exllamav2 stand-in)', () => {
  it('answers hello, load, generate (deltas, then done with token counts and timings), cancel and shutdown', async () => {
    const modelDir = makeModelDir();
    const bridge = new RawBridge(bridgeEnv());
    bridge.send({ id: 'h', op: 'hello' });
    const [hello] = await bridge.until((event) => event.id === 'h');
    expect(hello).toMatchObject({
      event: 'ready',
      protocol: 1,
      exllamav2: { available: true, version: '0.0.0+nerion.stand-in' },
      jsonFilter: { available: false },
    });
    expect(hello!.python).toMatch(/^3\.\d+\.\d+/);

    bridge.send({ id: 'l', op: 'load', modelDir });
    const [loaded] = await bridge.until((event) => event.id === 'l');
    expect(loaded).toMatchObject({ event: 'ready', model: 'tiny-exl2', modelDir, maxSeqLen: 4096 });

    bridge.send({ id: 'g', op: 'generate', prompt: 'def add(', maxTokens: 5, temperature: 0 });
    const generated = await bridge.until((event) => event.id === 'g' && event.event !== 'delta');
    const deltas = generated.filter((event) => event.event === 'delta');
    expect(deltas).toHaveLength(5);
    for (const delta of deltas) expect(typeof delta.text).toBe('string');
    const done = generated.at(-1)!;
    expect(done).toMatchObject({
      event: 'done',
      finishReason: 'length',
      eosReason: 'max_new_tokens',
      completionTokens: 5,
      promptTokens: 9,
      constrained: false,
    });
    expect(done.totalMs).toBeGreaterThan(0);
    expect(done.timeToFirstTokenMs).toBeLessThanOrEqual(done.totalMs as number);

    bridge.send({ id: 'long', op: 'generate', prompt: 'x', maxTokens: 100_000, temperature: 0.8 });
    await bridge.until((event) => event.id === 'long' && event.event === 'delta');
    bridge.send({ id: 'c', op: 'cancel', target: 'long' });
    const cancelled = await bridge.until((event) => event.id === 'long' && event.event === 'done');
    expect(cancelled.at(-1)).toMatchObject({ cancelled: true });

    bridge.send('this is not json');
    const [complaint] = await bridge.until((event) => event.id === null);
    expect(complaint).toMatchObject({ event: 'error', code: 'BACKEND_ERROR' });
    bridge.send({ id: 'x', op: 'teleport' });
    const [unknown] = await bridge.until((event) => event.id === 'x');
    expect(unknown).toMatchObject({ event: 'error', code: 'INVALID_REQUEST' });

    bridge.send({ id: 's', op: 'shutdown' });
    await bridge.until((event) => event.id === 's');
    expect(await bridge.exited()).toBe(0);
  });

  it('without the exllamav2 module: hello reports it, load answers BINDINGS_UNAVAILABLE, and the bridge keeps running', async () => {
    const bridge = new RawBridge(bridgeEnv({}, false));
    bridge.send({ id: 'h', op: 'hello' });
    const [hello] = await bridge.until((event) => event.id === 'h');
    expect(hello).toMatchObject({ event: 'ready', exllamav2: { available: false } });
    expect(String((hello!.exllamav2 as { error: string }).error)).toMatch(/ModuleNotFoundError.*exllamav2/);
    expect(String(hello!.installHint)).toMatch(/-m pip install exllamav2/);
    bridge.send({ id: 'l', op: 'load', modelDir: makeModelDir() });
    const [load] = await bridge.until((event) => event.id === 'l');
    expect(load).toMatchObject({ event: 'error', code: 'BINDINGS_UNAVAILABLE' });
    bridge.send({ id: 'h2', op: 'hello' });
    expect((await bridge.until((event) => event.id === 'h2'))[0]).toMatchObject({ event: 'ready' });
    bridge.send({ id: 's', op: 'shutdown' });
    expect(await bridge.exited()).toBe(0);
  });

  it("stdout carries only protocol lines: the library's own prints go to stderr", async () => {
    const bridge = new RawBridge(bridgeEnv());
    bridge.send({ id: 'l', op: 'load', modelDir: makeModelDir({ config: { nerion_stand_in_fail_load: true } }) });
    const [load] = await bridge.until((event) => event.id === 'l');
    expect(load).toMatchObject({ event: 'error', code: 'MODEL_LOAD_FAILED' });
    expect(String(load!.message)).toMatch(/simulated load failure/);
    expect(bridge.stderr).toMatch(/Traceback/);
    bridge.child.stdin.end();
    expect(await bridge.exited()).toBe(0);
  });
});

describe('the exllamav2 backend over the bridge (pure-Python exllamav2 stand-in)', () => {
  it('missing bindings: one warning naming what to install, probe says so, generate fails typed — never "None"', async () => {
    const warnings: string[] = [];
    const backend = backendWith({ env: bridgeEnv({}, false), onWarning: (message) => warnings.push(message) });
    try {
      const probe = await backend.probe();
      expect(probe.available).toBe(false);
      expect(probe.reason).toMatch(/pip install exllamav2/);
      const error = await rejection(backend.generate({ messages: MESSAGES, maxTokens: 4 }));
      expect(error.code).toBe('BINDINGS_UNAVAILABLE');
      expect(error.message).toMatch(/exllamav2/);
      expect(error.message).not.toMatch(/\bNone\b/);
      expect(error.fix?.settings).toEqual(['NERION_PYTHON']);
      await backend.probe();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/-m pip install exllamav2/);
    } finally {
      await backend.close();
    }
  });

  it('an incompatible exllamav2 (no ExLlamaV2DynamicJob): probe names the missing API and the upgrade', async () => {
    const backend = backendWith({ env: bridgeEnv({ NERION_STANDIN_BROKEN: '1' }) });
    try {
      const probe = await backend.probe();
      expect(probe.available).toBe(false);
      expect(probe.reason).toMatch(/ExLlamaV2DynamicJob/);
      expect(probe.reason).toMatch(/pip install -U exllamav2/);
      expect((await rejection(backend.generate({ prompt: 'x', maxTokens: 2 }))).code).toBe('BINDINGS_UNAVAILABLE');
    } finally {
      await backend.close();
    }
  });

  it('no Python at the configured path: probe and generate name NERION_PYTHON', async () => {
    const backend = backendWith({ python: '/nonexistent/nerion-python3' });
    try {
      const probe = await backend.probe();
      expect(probe.available).toBe(false);
      expect(probe.reason).toMatch(/NERION_PYTHON/);
      const error = await rejection(backend.generate({ prompt: 'x', maxTokens: 2 }));
      expect(error.code).toBe('BINDINGS_UNAVAILABLE');
      expect(error.message).toMatch(/was not found/);
      expect(error.fix).toEqual({ settings: ['NERION_PYTHON'] });
    } finally {
      await backend.close();
    }
  });

  it('a bridge that dies mid-stream fails the stream with BACKEND_ERROR carrying its stderr, and the next call respawns it', async () => {
    const backend = backendWith({ env: bridgeEnv({ NERION_STANDIN_CRASH_AFTER_TOKENS: '3' }) });
    try {
      const parts: StreamPart[] = [];
      const error = await rejection(
        (async () => {
          for await (const part of backend.stream({ messages: MESSAGES, maxTokens: 50 })) parts.push(part);
        })(),
      );
      expect(parts.filter((part) => part.type === 'text-delta').length).toBe(3);
      expect(error.code).toBe('BACKEND_ERROR');
      expect(error.message).toMatch(/exited with status 3 during generate/);
      expect(error.message).toMatch(/simulated crash/);
      expect(error.data.exitCode).toBe(3);
      expect(backend.bridgePid).toBeUndefined();
      const after = await backend.generate({ messages: MESSAGES, maxTokens: 2 });
      expect(after.usage.completionTokens).toBe(2);
      expect(backend.bridgePid).toBeDefined();
    } finally {
      await backend.close();
    }
  });

  it('a bridge stuck inside iterate() is killed after the cancel grace, and the next call works', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'nerion-hang-')), 'hanging');
    const backend = backendWith({
      env: bridgeEnv({ NERION_STANDIN_HANG_AFTER_TOKENS: '2', NERION_STANDIN_HANG_MARKER: marker }),
      cancelGraceMs: 300,
    });
    try {
      const controller = new AbortController();
      // Abort only once the stand-in is really stuck inside iterate(); earlier, the bridge would see the
      // cancel between two iterations and stop cleanly (a different, also correct, path).
      const aborting = (async () => {
        while (!existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, 20));
        controller.abort();
      })();
      const error = await rejection(
        (async () => {
          for await (const part of backend.stream({ prompt: 'x', maxTokens: 100, signal: controller.signal }))
            void part;
        })(),
      );
      await aborting;
      expect(error.code).toBe('ABORTED');
      const stuckPid = backend.bridgePid!;
      const deadline = Date.now() + 10_000;
      while (isAlive(stuckPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(isAlive(stuckPid)).toBe(false);
      const after = await backend.generate({ prompt: 'y', maxTokens: 2 });
      expect(after.text.length).toBeGreaterThan(0);
      expect(backend.bridgePid).not.toBe(stuckPid);
    } finally {
      await backend.close();
      rmSync(dirname(marker), { recursive: true, force: true });
    }
  });

  it("a model that fails to load surfaces MODEL_LOAD_FAILED with exllamav2's reason", async () => {
    const backend = backendWith({ modelDir: makeModelDir({ config: { nerion_stand_in_fail_load: true } }) });
    try {
      const error = await rejection(backend.generate({ prompt: 'x', maxTokens: 2 }));
      expect(error.code).toBe('MODEL_LOAD_FAILED');
      expect(error.message).toMatch(/simulated load failure/);
    } finally {
      await backend.close();
    }
  });

  it('without a JSON filter: invalid JSON gets one repair attempt, then the valid JSON is returned with a warning', async () => {
    const backend = backendWith({
      env: bridgeEnv({
        NERION_STANDIN_OUTPUTS: JSON.stringify(['Sure! kind=create_file', '{"kind": "create_file", "done": true}']),
      }),
    });
    try {
      expect(backend.supportsConstrainedDecoding).toBe(false);
      const result = await backend.generate({ messages: MESSAGES, jsonSchema: SCHEMA, maxTokens: 64 });
      expect(result.json).toEqual({ kind: 'create_file', done: true });
      expect(JSON.parse(result.text)).toEqual(result.json);
      expect(result.warnings.join('\n')).toMatch(/one repair attempt/);
      expect(result.warnings.join('\n')).toMatch(/lm-format-enforcer/);
    } finally {
      await backend.close();
    }
  });

  it('without a JSON filter: a reply that stays invalid after the repair is INVALID_OUTPUT', async () => {
    const backend = backendWith({
      env: bridgeEnv({
        NERION_STANDIN_OUTPUTS: JSON.stringify(['nope', '{"kind": "delete_everything", "done": true}']),
      }),
    });
    try {
      const error = await rejection(backend.generate({ messages: MESSAGES, jsonSchema: SCHEMA, maxTokens: 64 }));
      expect(error.code).toBe('INVALID_OUTPUT');
      expect(error.message).toMatch(/after one repair attempt/);
    } finally {
      await backend.close();
    }
  });

  it('stop sequences end generation before the stop text (the engine holds partial matches back)', async () => {
    const backend = backendWith({
      env: bridgeEnv({ NERION_STANDIN_OUTPUTS: JSON.stringify(['return a + b;\n}\nEND trailing']) }),
    });
    try {
      const parts: StreamPart[] = [];
      for await (const part of backend.stream({ prompt: 'x', maxTokens: 50, stop: ['\nEND'] })) parts.push(part);
      const result = (parts.at(-1) as { result: GenerateResult }).result;
      expect(result.text).toBe('return a + b;\n}');
      expect(result.finishReason).toBe('stop');
      expect(
        parts
          .filter((part) => part.type === 'text-delta')
          .some((part) => (part as { text: string }).text.includes('E')),
      ).toBe(false);
    } finally {
      await backend.close();
    }
  });

  it("chat messages use the model folder's chat template when jinja2 is importable, else a plain prompt with a warning", async () => {
    const template = '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}<|assistant|>';
    const backend = backendWith({ modelDir: makeModelDir({ chatTemplate: template }) });
    try {
      const result = await collectStream(backend.stream({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }));
      const hasJinja = result.warnings.every((warning) => !/jinja2 is not installed/.test(warning));
      if (hasJinja) {
        expect(result.usage.promptTokens).toBe(Buffer.byteLength('<|user|>hi\n<|assistant|>'));
        expect(result.warnings.join('\n')).not.toMatch(/plain prompt/);
      } else {
        expect(result.warnings.join('\n')).toMatch(/install jinja2/);
      }
    } finally {
      await backend.close();
    }
  });

  it('close() stops the bridge child (its pid is gone) and probe then reports unavailable', async () => {
    const backend = backendWith({});
    await backend.generate({ prompt: 'x', maxTokens: 2 });
    const pid = backend.bridgePid!;
    expect(isAlive(pid)).toBe(true);
    await backend.close();
    expect(isAlive(pid)).toBe(false);
    expect((await backend.probe()).available).toBe(false);
    expect((await rejection(backend.generate({ prompt: 'x', maxTokens: 2 }))).code).toBe('BACKEND_CLOSED');
  });

  it('probe() reports the model folder, the Python and the engine version without loading the model', async () => {
    const backend = backendWith({});
    try {
      const probe = await backend.probe();
      expect(probe).toMatchObject({
        available: true,
        modelAvailable: true,
        models: ['tiny-exl2'],
        version: '0.0.0+nerion.stand-in',
      });
      expect(probe.facts).toMatchObject({ python: PYTHON, exllamav2: true, jsonFilter: null });
    } finally {
      await backend.close();
    }
  });
});
