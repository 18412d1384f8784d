/**
 * One CoderBackend over several replicas of the same backend (independent servers serving the same
 * model), routed by a ReplicaRouter:
 *
 * - each request goes to the replica with the fewest requests in flight;
 * - a request that could not reach its replica (BACKEND_UNREACHABLE: no byte of an answer arrived), or
 *   that the replica refused before generating (MODEL_NOT_FOUND), moves to another replica, once per
 *   replica, within the caller's timeout;
 * - once any part of an answer arrived, a failure is the caller's error: a stream is never restarted
 *   or duplicated;
 * - a replica that fails (unreachable, cut by the timeout before answering, a server error, a broken
 *   stream) is taken out and probed back in after a bounded backoff.
 *
 * The OpenAI-compatible backends and Ollama build on it; each replica is that backend's own
 * single-endpoint instance.
 */
import type {
  BackendId,
  CoderBackend,
  GenerateRequest,
  GenerateResult,
  ProbeOptions,
  ProbeResult,
  ReplicaStatus,
  StreamPart,
} from './coder-backend.js';
import { CODER_BACKEND_SPECIFICATION_VERSION } from './coder-backend.js';
import { NerionError, describeError } from './errors.js';
import { RequestLifecycle, validateGenerateRequest } from './request-lifecycle.js';
import { ReplicaRouter, type ReplicaBackoff, type ReplicaLease } from './replica-router.js';

export interface Replica<B extends CoderBackend = CoderBackend> {
  /** The replica's base URL (as messages and `probe().replicas` show it). */
  url: string;
  /** The single-endpoint backend that talks to it. */
  backend: B;
}

export interface ReplicatedBackendSettings<B extends CoderBackend = CoderBackend> {
  id: BackendId;
  model: string;
  /** The server's name in messages (`vLLM`, `Ollama`, …). */
  serverName: string;
  replicas: readonly Replica<B>[];
  backoff?: ReplicaBackoff;
  /** Bound of the check that probes a replica back in (default 2000 ms). */
  checkTimeoutMs?: number;
  /** Whether a probe says the replica can serve (default: available, and the model is not known to be missing). */
  canServe?: (probe: ProbeResult) => boolean;
  /** The clock of the backoff (tests). */
  now?: () => number;
}

export interface ReplicatedBackend<B extends CoderBackend = CoderBackend> extends CoderBackend {
  readonly replicas: readonly Replica<B>[];
  /** Every replica's routing state now (what `probe().replicas` reports, without probing). */
  replicaStatuses(): ReplicaStatus[];
}

/** How a failed attempt counts: move to another replica, take the replica out, or neither. */
type Verdict = 'failover' | 'replica-fault' | 'caller';

function verdictFor(error: unknown, answerStarted: boolean, lifecycle: RequestLifecycle): Verdict {
  if (lifecycle.aborted) {
    // The caller's timeout cut a replica that had not answered: it is hung or overloaded.
    return NerionError.hasCode(lifecycle.toError(error), 'TIMEOUT') && !answerStarted ? 'replica-fault' : 'caller';
  }
  if (!NerionError.isInstance(error)) return 'replica-fault';
  if (error.code === 'BACKEND_UNREACHABLE') return answerStarted ? 'replica-fault' : 'failover';
  // The replica refused before generating anything (it lacks the model): another one may have it.
  if (error.code === 'MODEL_NOT_FOUND') return answerStarted ? 'replica-fault' : 'failover';
  if (error.code === 'BACKEND_ERROR') {
    const status = error.data.status;
    return typeof status === 'number' && status < 500 ? 'caller' : 'replica-fault';
  }
  return 'caller';
}

function joinReasons(failures: ReadonlyArray<{ url: string; error: unknown }>): string {
  return failures.map(({ url, error }) => `${url}: ${describeError(error)}`).join('; ');
}

export function createReplicatedBackend<B extends CoderBackend>(
  settings: ReplicatedBackendSettings<B>,
): ReplicatedBackend<B> {
  const { serverName, replicas } = settings;
  if (replicas.length === 0)
    throw new NerionError('CONFIG_INVALID', `No ${serverName} base URL was given; give at least one.`);
  const byUrl = new Map(replicas.map((replica) => [replica.url, replica.backend]));
  if (byUrl.size !== replicas.length)
    throw new NerionError(
      'CONFIG_INVALID',
      `The ${serverName} base URLs name the same server more than once (${replicas.map((replica) => replica.url).join(', ')}); list each replica once.`,
      { data: { baseUrls: replicas.map((replica) => replica.url) } },
    );
  const canServe = settings.canServe ?? ((probe: ProbeResult) => probe.available && probe.modelAvailable !== false);
  const router = new ReplicaRouter({
    urls: replicas.map((replica) => replica.url),
    backoff: settings.backoff,
    checkTimeoutMs: settings.checkTimeoutMs,
    now: settings.now,
    check: async (url, signal) => {
      const probe = await byUrl.get(url)!.probe({ signal, timeoutMs: settings.checkTimeoutMs ?? 2000 });
      return canServe(probe)
        ? undefined
        : (probe.reason ?? `${serverName} at ${url} cannot serve "${settings.model}".`);
    },
  });
  let closed = false;

  const closedError = (): NerionError =>
    new NerionError('BACKEND_CLOSED', `This ${serverName} backend was closed; create a new one.`);

  /** Every replica was tried and none could take the request: MODEL_NOT_FOUND when all lacked the model. */
  function noneAnswered(failures: ReadonlyArray<{ url: string; error: unknown }>): NerionError {
    const first = failures[0]?.error;
    const allLackModel = failures.every(({ error }) => NerionError.hasCode(error, 'MODEL_NOT_FOUND'));
    return new NerionError(
      allLackModel ? 'MODEL_NOT_FOUND' : 'BACKEND_UNREACHABLE',
      allLackModel
        ? `None of the ${replicas.length} ${serverName} replicas has "${settings.model}" (${joinReasons(failures)}).`
        : `None of the ${replicas.length} ${serverName} replicas could be reached (${joinReasons(failures)}).`,
      {
        cause: first,
        data: { baseUrls: router.urls, tried: failures.map((failure) => failure.url) },
        ...(NerionError.isInstance(first) && first.fix ? { fix: first.fix } : {}),
      },
    );
  }

  /** The caller's cut (TIMEOUT/ABORTED); a timeout names the replica it cut, which is then out. */
  function cutError(error: unknown, lifecycle: RequestLifecycle, url: string, answerStarted: boolean): NerionError {
    const cut = lifecycle.toError(error) as NerionError;
    if (cut.code !== 'TIMEOUT' || answerStarted) return cut;
    return new NerionError(
      'TIMEOUT',
      `${cut.message} The ${serverName} replica at ${url} had not answered; it is out of rotation until it answers a probe.`,
      { cause: cut.cause, data: { ...cut.data, replica: url } },
    );
  }

  function begin(request: GenerateRequest): RequestLifecycle {
    if (closed) throw closedError();
    validateGenerateRequest(request);
    return new RequestLifecycle(request, `${serverName} generation`);
  }

  /** The request as one replica receives it: the composite's signal, which carries the caller's timeout. */
  const attemptRequest = (request: GenerateRequest, lifecycle: RequestLifecycle): GenerateRequest => {
    const { timeoutMs: _timeoutMs, ...rest } = request;
    return { ...rest, signal: lifecycle.signal };
  };

  function settle(lease: ReplicaLease, verdict: Verdict | 'answered', error?: unknown): void {
    if (verdict === 'answered') lease.succeeded();
    else if (verdict === 'caller') lease.released();
    else lease.failed(describeError(error));
  }

  /** One request's walk over the replicas: its lifecycle, the next replica not tried yet, the failures so far. */
  function attempts(request: GenerateRequest): {
    lifecycle: RequestLifecycle;
    next: () => ReplicaLease;
    failedOver: (url: string, error: unknown) => void;
  } {
    const lifecycle = begin(request);
    const failures: Array<{ url: string; error: unknown }> = [];
    const tried = new Set<string>();
    return {
      lifecycle,
      /** The next replica, or the error that ends the request: aborted, closed, none left. */
      next: () => {
        lifecycle.throwIfAborted();
        if (closed) throw closedError();
        const lease = router.acquire(tried);
        if (!lease) throw noneAnswered(failures);
        tried.add(lease.url);
        return lease;
      },
      failedOver: (url, error) => {
        failures.push({ url, error });
      },
    };
  }

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    const run = attempts(request);
    const { lifecycle } = run;
    try {
      for (;;) {
        const lease = run.next();
        try {
          const result = await byUrl.get(lease.url)!.generate(attemptRequest(request, lifecycle));
          settle(lease, 'answered');
          return result;
        } catch (error) {
          const verdict = verdictFor(error, false, lifecycle);
          const failure = lifecycle.aborted ? cutError(error, lifecycle, lease.url, false) : error;
          settle(lease, verdict, failure);
          if (verdict !== 'failover') throw failure;
          run.failedOver(lease.url, error);
        }
      }
    } finally {
      lifecycle.dispose();
    }
  }

  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const run = attempts(request);
    const { lifecycle } = run;
    try {
      for (;;) {
        const lease = run.next();
        let answerStarted = false;
        let verdict: Verdict | 'answered' = 'caller';
        let failure: unknown;
        try {
          for await (const part of byUrl.get(lease.url)!.stream(attemptRequest(request, lifecycle))) {
            answerStarted = true;
            yield part;
          }
          verdict = 'answered';
          return;
        } catch (error) {
          verdict = verdictFor(error, answerStarted, lifecycle);
          failure = lifecycle.aborted ? cutError(error, lifecycle, lease.url, answerStarted) : error;
          if (verdict !== 'failover') throw failure;
          run.failedOver(lease.url, error);
        } finally {
          // A consumer that stops early leaves with verdict 'caller': the replica is not blamed.
          settle(lease, verdict, failure);
        }
      }
    } finally {
      lifecycle.dispose();
    }
  }

  async function probe(options: ProbeOptions = {}): Promise<ProbeResult> {
    if (closed) return { available: false, reason: `This ${serverName} backend was closed; create a new one.` };
    const results = await Promise.all(
      replicas.map(async ({ url, backend }) => {
        try {
          return { url, probe: await backend.probe(options) };
        } catch (error) {
          return { url, probe: { available: false, reason: describeError(error) } };
        }
      }),
    );
    for (const { url, probe: result } of results)
      router.observe(url, canServe(result) ? undefined : (result.reason ?? `${serverName} at ${url} cannot serve.`));
    const serving = results.filter(({ probe: result }) => canServe(result));
    const primary = (serving[0] ?? results[0]).probe;
    const models = [...new Set(results.flatMap(({ probe: result }) => result.models ?? []))];
    const down = results.filter(({ probe: result }) => !canServe(result));
    const downReasons = down.map(({ url, probe: result }) => `${url}: ${result.reason ?? 'cannot serve'}`).join('; ');
    const reason =
      serving.length === 0
        ? `None of the ${replicas.length} ${serverName} replicas can serve "${settings.model}" (${downReasons}).`
        : down.length > 0
          ? `${serving.length} of ${replicas.length} ${serverName} replicas can serve "${settings.model}"; out: ${downReasons}.`
          : undefined;
    const statuses = router.statuses();
    const { reason: _primaryReason, ...primaryFacts } = primary;
    return {
      ...primaryFacts,
      available: results.some(({ probe: result }) => result.available),
      ...(reason ? { reason } : {}),
      ...(models.length > 0 ? { models } : {}),
      ...(results.some(({ probe: result }) => result.modelAvailable !== undefined)
        ? { modelAvailable: serving.some(({ probe: result }) => result.modelAvailable === true) }
        : {}),
      replicas: statuses.map((status) => {
        const observed = results.find((result) => result.url === status.url)!.probe;
        return {
          ...status,
          ...(canServe(observed) ? {} : { reason: observed.reason ?? status.reason ?? 'cannot serve' }),
        };
      }),
    };
  }

  return {
    specificationVersion: CODER_BACKEND_SPECIFICATION_VERSION,
    id: settings.id,
    model: settings.model,
    supportsConstrainedDecoding: replicas.every((replica) => replica.backend.supportsConstrainedDecoding),
    replicas,
    replicaStatuses: () => router.statuses(),
    probe,
    generate,
    stream,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await router.close();
      await Promise.all(replicas.map((replica) => replica.backend.close()));
    },
  };
}
