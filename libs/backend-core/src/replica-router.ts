/**
 * Client-side load balancing over independent servers of one backend (replicas): each request goes to
 * the replica with the fewest requests in flight (ties taken in turn); a replica that fails is taken out
 * and probed back in after a bounded, doubling backoff. Used by `createReplicatedBackend`.
 */

import type { ReplicaStatus } from './coder-backend.js';

export interface ReplicaBackoff {
  /** The wait before the first check of a replica taken out (default 1000 ms). */
  initialMs?: number;
  /** The longest wait between checks; the wait doubles per consecutive failure up to this (default 30 000 ms). */
  maxMs?: number;
}

export interface ReplicaRouterOptions {
  /** The replicas' base URLs (at least one, no duplicates). */
  urls: readonly string[];
  /**
   * Checks a replica that is out (the probe back in): resolves `undefined` when it can serve again, or a
   * sentence saying why not. Must settle within `checkTimeoutMs` (the signal fires then) and not throw.
   */
  check: (url: string, signal: AbortSignal) => Promise<string | undefined>;
  backoff?: ReplicaBackoff;
  /** Bound of one check (default 2000 ms). */
  checkTimeoutMs?: number;
  /** The clock (default performance.now); tests of the backoff pass their own. */
  now?: () => number;
}

/** A request's hold on one replica: release it exactly once, saying how the request ended there. */
export interface ReplicaLease {
  readonly url: string;
  /** The request got its answer (or a caller error) from this replica: it stays in, its failures reset on `answered`. */
  succeeded(): void;
  /** The replica failed this request: take it out until a check brings it back. */
  failed(reason: string): void;
  /** The request ended without saying anything about the replica (aborted by the caller, a bad request). */
  released(): void;
}

interface ReplicaState {
  url: string;
  inFlight: number;
  out: boolean;
  failures: number;
  reason?: string;
  /** When (router clock) the next check may run. */
  checkAt: number;
  checking: boolean;
}

export const DEFAULT_REPLICA_BACKOFF = { initialMs: 1000, maxMs: 30_000 } as const;

export class ReplicaRouter {
  private readonly replicas: ReplicaState[];
  private readonly now: () => number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly checkTimeoutMs: number;
  private readonly closing = new AbortController();
  private readonly pendingChecks = new Set<Promise<void>>();
  private cursor = 0;

  constructor(private readonly options: ReplicaRouterOptions) {
    if (options.urls.length === 0) throw new RangeError('A replica router needs at least one URL.');
    if (new Set(options.urls).size !== options.urls.length)
      throw new RangeError(`The replica URLs repeat one another: ${options.urls.join(', ')}.`);
    this.replicas = options.urls.map((url) => ({
      url,
      inFlight: 0,
      out: false,
      failures: 0,
      checkAt: 0,
      checking: false,
    }));
    this.now = options.now ?? (() => performance.now());
    this.initialMs = options.backoff?.initialMs ?? DEFAULT_REPLICA_BACKOFF.initialMs;
    this.maxMs = Math.max(options.backoff?.maxMs ?? DEFAULT_REPLICA_BACKOFF.maxMs, this.initialMs);
    this.checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  }

  get urls(): readonly string[] {
    return this.replicas.map((replica) => replica.url);
  }

  /**
   * Takes the replica for the next request, skipping `exclude` (replicas this request already tried):
   * among the replicas in, the one with the fewest requests in flight (ties in turn); when every
   * remaining replica is out, the one due for a check soonest (a direct try, so a request never fails
   * without having tried). `undefined` when every replica is excluded. Starts due checks on the way.
   */
  acquire(exclude: ReadonlySet<string> = new Set()): ReplicaLease | undefined {
    this.startDueChecks();
    const count = this.replicas.length;
    let chosen: ReplicaState | undefined;
    let chosenIndex = -1;
    for (let step = 0; step < count; step += 1) {
      const index = (this.cursor + step) % count;
      const replica = this.replicas[index];
      if (replica.out || exclude.has(replica.url)) continue;
      if (!chosen || replica.inFlight < chosen.inFlight) {
        chosen = replica;
        chosenIndex = index;
      }
    }
    if (!chosen) {
      for (let index = 0; index < count; index += 1) {
        const replica = this.replicas[index];
        if (exclude.has(replica.url)) continue;
        if (!chosen || replica.checkAt < chosen.checkAt) {
          chosen = replica;
          chosenIndex = index;
        }
      }
    }
    if (!chosen) return undefined;
    this.cursor = (chosenIndex + 1) % count;
    return this.lease(chosen);
  }

  /** Records an outside observation (a probe): the replica can serve (`undefined`) or not (a reason). */
  observe(url: string, problem: string | undefined): void {
    const replica = this.replicas.find((candidate) => candidate.url === url);
    if (!replica) return;
    if (problem === undefined) this.bringIn(replica);
    else this.takeOut(replica, problem);
  }

  /** Every replica's state, in the order given. */
  statuses(): ReplicaStatus[] {
    return this.replicas.map((replica) => ({
      url: replica.url,
      available: !replica.out,
      inFlight: replica.inFlight,
      failures: replica.failures,
      ...(replica.out && replica.reason ? { reason: replica.reason } : {}),
    }));
  }

  /** Stops checks in progress and starts no more; resolves when they have settled. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.pendingChecks]);
  }

  private lease(replica: ReplicaState): ReplicaLease {
    replica.inFlight += 1;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      replica.inFlight -= 1;
      return true;
    };
    return {
      url: replica.url,
      succeeded: () => {
        if (!finish()) return;
        replica.failures = 0;
        this.bringIn(replica);
      },
      failed: (reason) => {
        if (finish()) this.takeOut(replica, reason);
      },
      released: () => {
        finish();
      },
    };
  }

  private bringIn(replica: ReplicaState): void {
    replica.out = false;
    delete replica.reason;
  }

  private takeOut(replica: ReplicaState, reason: string): void {
    replica.failures += 1;
    replica.out = true;
    replica.reason = reason;
    replica.checkAt = this.now() + Math.min(this.initialMs * 2 ** (replica.failures - 1), this.maxMs);
  }

  private startDueChecks(): void {
    if (this.closing.signal.aborted) return;
    const now = this.now();
    for (const replica of this.replicas) {
      if (!replica.out || replica.checking || replica.checkAt > now) continue;
      replica.checking = true;
      const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.checkTimeoutMs)]);
      const check = this.options
        .check(replica.url, signal)
        .catch((error: unknown) => (error instanceof Error ? error.message : String(error)))
        .then((problem) => {
          if (this.closing.signal.aborted || !replica.out) return;
          if (problem === undefined) this.bringIn(replica);
          else this.takeOut(replica, problem);
        })
        .finally(() => {
          replica.checking = false;
          this.pendingChecks.delete(check);
        });
      this.pendingChecks.add(check);
    }
  }
}
