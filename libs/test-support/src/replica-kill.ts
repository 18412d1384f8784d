/**
 * "Kill one replica in the middle of a run", the same way for every backend that routes over replicas (the
 * OpenAI-compatible backends and Ollama): `total` requests from `concurrency` workers, the victim killed when
 * request `killAt` is sent, and the invariants every correct router keeps, as a list of what was broken.
 */
import { NerionError } from '@nerion/backend-core';

export interface ReplicaKillOptions {
  total: number;
  concurrency: number;
  /** The index of the request at whose sending `kill` runs. */
  killAt: number;
  /** Kills the victim (e.g. closes its server; connections in flight are destroyed). */
  kill: () => Promise<void>;
  /** Makes request `index` through the backend under test and resolves to its text. */
  request: (index: number) => Promise<string>;
  /** The text every completed request must return (never a duplicated or spliced answer). */
  answer: string;
  /** The victim's base URL: every failure must name it. */
  victimUrl: string;
  /** How many requests the servers received in all, read after the run. */
  received: () => number;
}

export interface ReplicaKillRun {
  completed: number;
  failures: NerionError[];
  /** Requests a server received that were cut before any byte and moved to another replica. */
  movedOn: number;
  /** The invariants the run broke (empty when the router behaved). */
  problems: string[];
}

/**
 * Runs the requests; a NerionError is a counted failure, anything else (a wrong answer, another error) is
 * thrown. Invariants: every request completed or failed; only requests already on the victim failed (at most
 * one per worker), each BACKEND_ERROR or BACKEND_UNREACHABLE naming the victim; every request the servers
 * received was answered, failed to the caller, or moved on (at most one per worker).
 */
export async function runThroughReplicaKill(options: ReplicaKillOptions): Promise<ReplicaKillRun> {
  const { total, concurrency } = options;
  let next = 0;
  let completed = 0;
  const failures: NerionError[] = [];
  let killed: Promise<void> | undefined;
  async function worker(): Promise<void> {
    while (next < total) {
      const index = next;
      next += 1;
      if (index === options.killAt) killed = options.kill();
      try {
        const text = await options.request(index);
        if (text !== options.answer)
          throw new Error(`request ${index} answered ${JSON.stringify(text)}, not ${JSON.stringify(options.answer)}`);
        completed += 1;
      } catch (error) {
        if (!NerionError.isInstance(error)) throw error;
        failures.push(error);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  await killed;

  const movedOn = options.received() - completed - failures.length;
  const problems: string[] = [];
  if (completed + failures.length !== total)
    problems.push(`${completed} completed + ${failures.length} failed ≠ ${total} requests`);
  if (failures.length > concurrency) problems.push(`${failures.length} failures, more than ${concurrency} workers`);
  for (const failure of failures) {
    if (failure.code !== 'BACKEND_ERROR' && failure.code !== 'BACKEND_UNREACHABLE')
      problems.push(`a failure with code ${failure.code}: ${failure.message}`);
    if (!failure.message.includes(options.victimUrl))
      problems.push(`a failure that does not name ${options.victimUrl}: ${failure.message}`);
  }
  if (movedOn < 0 || movedOn > concurrency)
    problems.push(`${movedOn} requests moved on (received − completed − failed), not 0 to ${concurrency}`);
  return { completed, failures, movedOn, problems };
}
