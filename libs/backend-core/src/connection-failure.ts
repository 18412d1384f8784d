/**
 * Why a request never reached an HTTP server, read from a fetch failure's cause chain: Node's fetch throws
 * a bare `TypeError: fetch failed` and keeps the reason (an errno code, undici's connect timeout, or the
 * fetch standard's "bad port") in `cause`, sometimes inside an AggregateError. Backends put the reason into
 * their "not answering" messages so a person sees refused vs. not found vs. timed out vs. blocked.
 */

export interface ConnectionFailure {
  /** The errno-style code (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_CONNECT_TIMEOUT`, …), or `BAD_PORT`. */
  readonly code: string;
  /** What it means, in words: "connection refused". */
  readonly reason: string;
}

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing listens on that port',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'the socket closed',
};

/** The connection failure somewhere in `error`'s cause chain, or undefined when it is something else. */
export function connectionFailure(error: unknown): ConnectionFailure | undefined {
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 6; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code in REASONS) return { code, reason: REASONS[code] };
    // Node's fetch rejects the fetch standard's blocked ports (6000, 6665–6669, 10080, …) with this cause.
    if ((current as { message?: unknown }).message === 'bad port' && code === undefined)
      return {
        code: 'BAD_PORT',
        reason: "the port is on the fetch standard's blocked list, which Node's fetch refuses",
      };
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const nested = connectionFailure(inner[0]);
      if (nested) return nested;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The "not answering" sentence's first half, with the cause: `Ollama is not answering at URL (connection
 * refused: nothing listens on that port, ECONNREFUSED)`; for a blocked port, that nerion cannot connect there.
 */
export function unreachableSentence(serverName: string, url: string, failure: ConnectionFailure | undefined): string {
  if (failure?.code === 'BAD_PORT') {
    const port = portOf(url);
    return `nerion cannot connect to ${serverName} at ${url}: port ${port} is on the fetch standard's list of blocked ports, which Node's fetch refuses to use (BAD_PORT)`;
  }
  return `${serverName} is not answering at ${url}${failure ? ` (${failure.reason}, ${failure.code})` : ''}`;
}

function portOf(url: string): string {
  try {
    return new URL(url).port || '(default)';
  } catch {
    return '(unknown)';
  }
}
