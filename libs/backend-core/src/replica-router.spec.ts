import { describe, expect, it } from '@jest/globals';
import { ReplicaRouter } from './replica-router.js';

const URLS = ['http://a:1', 'http://b:1', 'http://c:1'];

function router(check: (url: string) => Promise<string | undefined> = async () => undefined) {
  let now = 0;
  const checks: string[] = [];
  const instance = new ReplicaRouter({
    urls: URLS,
    backoff: { initialMs: 100, maxMs: 350 },
    now: () => now,
    check: async (url) => {
      checks.push(url);
      return check(url);
    },
  });
  return { instance, checks, advance: (ms: number) => (now += ms) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ReplicaRouter', () => {
  it('takes the replica with the fewest requests in flight, ties in turn', () => {
    const { instance } = router();
    const first = instance.acquire()!;
    const second = instance.acquire()!;
    const third = instance.acquire()!;
    expect([first.url, second.url, third.url]).toEqual(URLS);
    second.succeeded();
    expect(instance.acquire()!.url).toBe('http://b:1'); // b has none in flight; a and c have one
    expect(instance.statuses().map((status) => status.inFlight)).toEqual([1, 1, 1]);
  });

  it('skips replicas a request already tried, and gives up when all were', () => {
    const { instance } = router();
    const tried = new Set(['http://a:1', 'http://c:1']);
    expect(instance.acquire(tried)!.url).toBe('http://b:1');
    expect(instance.acquire(new Set(URLS))).toBeUndefined();
  });

  it('takes a failed replica out, checks it after a doubling backoff bounded by maxMs, and brings it back when the check passes', async () => {
    let healthy = false;
    const { instance, checks, advance } = router(async () => (healthy ? undefined : 'still down'));
    instance.acquire()!.failed('connection refused'); // a: failures 1, next check in 100 ms
    expect(instance.statuses()[0]).toEqual({
      url: 'http://a:1',
      available: false,
      inFlight: 0,
      failures: 1,
      reason: 'connection refused',
    });
    for (let index = 0; index < 4; index += 1) instance.acquire()!.succeeded();
    expect(checks).toEqual([]); // not due yet
    const waits: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      let waited = 0;
      while (checks.length === round) {
        advance(10);
        waited += 10;
        instance.acquire()!.succeeded();
        await settle();
      }
      waits.push(waited);
    }
    // 100 (first failure), then 200, 350 (capped), 350: each failed check doubles the wait up to maxMs.
    expect(waits).toEqual([100, 200, 350, 350]);
    expect(instance.statuses()[0]).toMatchObject({ available: false, failures: 5, reason: 'still down' });
    healthy = true;
    advance(350);
    instance.acquire()!.succeeded();
    await settle();
    expect(instance.statuses()[0]).toMatchObject({ available: true, failures: 5 });
    // An answered request resets the failure count.
    let lease = instance.acquire()!;
    while (lease.url !== 'http://a:1') {
      lease.succeeded();
      lease = instance.acquire()!;
    }
    lease.succeeded();
    expect(instance.statuses()[0]).toMatchObject({ available: true, failures: 0 });
  });

  it('still tries a replica when every one is out (the one due soonest), so a request never fails untried', () => {
    const { instance, advance } = router(async () => 'down');
    instance.acquire()!.failed('down'); // a, due at 100
    advance(10);
    instance.acquire()!.failed('down'); // b, due at 110
    advance(10);
    instance.acquire()!.failed('down'); // c, due at 120
    expect(instance.acquire()!.url).toBe('http://a:1');
  });

  it('a released lease leaves the replica in and its failures as they were', () => {
    const { instance } = router();
    const lease = instance.acquire()!;
    lease.released();
    lease.failed('late'); // a lease settles once
    expect(instance.statuses()[0]).toEqual({ url: 'http://a:1', available: true, inFlight: 0, failures: 0 });
  });

  it('rejects an empty or repeated URL list', () => {
    expect(() => new ReplicaRouter({ urls: [], check: async () => undefined })).toThrow(RangeError);
    expect(() => new ReplicaRouter({ urls: ['http://a:1', 'http://a:1'], check: async () => undefined })).toThrow(
      RangeError,
    );
  });
});
