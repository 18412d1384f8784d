import { describe, expect, it } from '@jest/globals';
import { AsyncChannel } from './async-channel.js';
import { formatBytes } from './format-bytes.js';

describe('AsyncChannel (callbacks push, an async iterator pulls)', () => {
  it('delivers items pushed before and while the consumer waits, then ends', async () => {
    const channel = new AsyncChannel<number>();
    channel.push(1);
    const seen: number[] = [];
    const consuming = (async () => {
      for await (const item of channel) seen.push(item);
    })();
    await new Promise((resolve) => setTimeout(resolve, 5));
    channel.push(2);
    channel.end();
    channel.push(3); // after the end: dropped
    await consuming;
    expect(seen).toEqual([1, 2]);
    expect(channel.finished).toBe(true);
  });

  it('rejects the waiting consumer with the failure, after the items already queued', async () => {
    const channel = new AsyncChannel<string>();
    channel.push('a');
    channel.fail(new Error('engine crashed'));
    const iterator = channel[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ value: 'a', done: false });
    await expect(iterator.next()).rejects.toThrow('engine crashed');
  });
});

describe('formatBytes (decimal units, one convention for every message)', () => {
  it('uses B, KB, MB, GB, TB in powers of 1000', () => {
    expect(formatBytes(900)).toBe('900 B');
    expect(formatBytes(12_000)).toBe('12.0 KB');
    expect(formatBytes(340_000_000)).toBe('340 MB');
    expect(formatBytes(1_500_000_000)).toBe('1.50 GB');
    expect(formatBytes(2 ** 30)).toBe('1.07 GB');
  });
});
