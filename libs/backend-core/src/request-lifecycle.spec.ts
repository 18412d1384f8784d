import { describe, expect, it } from '@jest/globals';
import type { StreamPart } from './coder-backend.js';
import { NerionError } from './errors.js';
import {
  RequestLifecycle,
  applyStopSequences,
  collectStream,
  formatPlainPrompt,
  raceAbort,
  sleep,
  validateGenerateRequest,
} from './request-lifecycle.js';

describe('RequestLifecycle', () => {
  it('fires TIMEOUT after timeoutMs and maps the engine error to it', async () => {
    const lifecycle = new RequestLifecycle({ timeoutMs: 10 });
    await new Promise((resolve) => lifecycle.signal.addEventListener('abort', resolve));
    const mapped = lifecycle.toError(new Error('engine stopped'));
    expect(NerionError.hasCode(mapped, 'TIMEOUT')).toBe(true);
    expect((mapped as NerionError).message).toContain('10 ms');
    lifecycle.dispose();
  });

  it('follows the caller’s signal, including one aborted before the call', () => {
    const controller = new AbortController();
    controller.abort();
    const lifecycle = new RequestLifecycle({ signal: controller.signal });
    expect(lifecycle.signal.aborted).toBe(true);
    expect(() => lifecycle.throwIfAborted()).toThrow(expect.objectContaining({ code: 'ABORTED' }));
  });

  it('passes other errors through untouched when nothing was cut', () => {
    const lifecycle = new RequestLifecycle({ timeoutMs: 10_000 });
    const original = new Error('boom');
    expect(lifecycle.toError(original)).toBe(original);
    lifecycle.dispose();
  });
});

describe('request helpers', () => {
  it('validates the request shape', () => {
    expect(() => validateGenerateRequest({})).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => validateGenerateRequest({ prompt: 'x', messages: [{ role: 'user', content: 'y' }] })).toThrow(
      'exactly one',
    );
    expect(() => validateGenerateRequest({ prompt: 'x', temperature: 3 })).toThrow('temperature');
    expect(() => validateGenerateRequest({ prompt: 'x', maxTokens: 1 })).not.toThrow();
  });

  it('collects a stream into its finish result', async () => {
    async function* parts(): AsyncIterable<StreamPart> {
      yield { type: 'text-delta', text: 'he' };
      yield { type: 'text-delta', text: 'llo' };
      yield {
        type: 'finish',
        result: { text: 'hello', finishReason: 'stop', usage: {}, timings: { totalMs: 1 }, model: 'm', warnings: [] },
      };
    }
    expect((await collectStream(parts())).text).toBe('hello');
    async function* broken(): AsyncIterable<StreamPart> {
      yield { type: 'text-delta', text: 'he' };
    }
    await expect(collectStream(broken())).rejects.toMatchObject({ code: 'BACKEND_ERROR' });
  });

  it('applies the earliest stop sequence and formats a plain prompt', () => {
    expect(applyStopSequences('a END b STOP', ['STOP', 'END'])).toEqual({ text: 'a ', stopped: true });
    expect(applyStopSequences('abc', ['x'])).toEqual({ text: 'abc', stopped: false });
    expect(formatPlainPrompt([{ role: 'user', content: 'hi' }])).toBe('### User:\nhi\n\n### Assistant:\n');
  });
});

describe('raceAbort', () => {
  it('settles like the promise, or rejects with the signal’s reason as soon as it aborts', async () => {
    await expect(raceAbort(Promise.resolve(1), undefined)).resolves.toBe(1);
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(2), controller.signal)).resolves.toBe(2);
    const never = new Promise<number>(() => undefined);
    const waiting = raceAbort(never, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(raceAbort(Promise.resolve(3), controller.signal)).rejects.toBe(reason);
  });
});

describe('sleep', () => {
  it('resolves after the wait, or rejects with the signal’s reason when it aborts first or already has', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    await expect(sleep(0)).resolves.toBeUndefined();
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    const reason = new NerionError('ABORTED', 'stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(sleep(1, controller.signal)).rejects.toBe(reason);
    await expect(sleep(0, controller.signal)).rejects.toBe(reason);
  });
});

describe('RequestLifecycle settings (used by @nerion/bench for a whole combination)', () => {
  it('cuts with the given TIMEOUT message, and end() aborts the signal with its reason once', async () => {
    const lifecycle = new RequestLifecycle({ timeoutMs: 5 }, 'bench', {
      timeoutMessage: () => 'x/y did not finish (while in phase "load")',
      keepAlive: true,
    });
    await new Promise((resolve) => lifecycle.signal.addEventListener('abort', resolve, { once: true }));
    expect(lifecycle.signal.reason).toMatchObject({
      code: 'TIMEOUT',
      message: 'x/y did not finish (while in phase "load")',
    });
    lifecycle.end(new Error('later'));
    expect(lifecycle.signal.reason).toMatchObject({ code: 'TIMEOUT' });

    const finished = new RequestLifecycle({ timeoutMs: 60_000 }, 'bench');
    const reason = new NerionError('ABORTED', 'The combination is finished.');
    finished.end(reason);
    expect(finished.signal.reason).toBe(reason);
    expect(finished.aborted).toBe(false); // ended, not cut: toError() passes errors through
  });
});
