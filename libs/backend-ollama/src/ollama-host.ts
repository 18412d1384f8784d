/**
 * Ollama's own `OLLAMA_HOST`, read the way Ollama reads it (envconfig.Host, then ConnectableHost), so
 * nerion finds the server wherever `ollama serve` listens:
 *
 * - quotes and spaces around the value are dropped; empty means `http://127.0.0.1:11434`;
 * - without a scheme: http, default port 11434 (`0.0.0.0`, `127.0.0.1:11435`, `:11435`, `gpu1`);
 *   with `http://` the default port is 80, with `https://` 443 (as Ollama does);
 * - a missing host (`:11435`) is this machine; an unspecified bind address (`0.0.0.0`, `::`) is
 *   reached on loopback (`127.0.0.1`, `::1`), since it is valid for listening but not for connecting;
 * - a port that is not a number from 0 to 65535 falls back to the default port (Ollama does the same,
 *   with a warning — so that is where the server listens);
 * - `ollama.com` alone is `https://ollama.com:443`.
 *
 * No heavy imports here: the CLI's config resolver calls it on every run.
 */
import { NerionError } from '@nerion/backend-core';

export const OLLAMA_DEFAULT_PORT = 11434;

function isIpv4(text: string): boolean {
  return /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(text);
}

/** Go's net.SplitHostPort: `host:port`, `[v6]:port`; undefined when there is no port part. */
function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close === -1 || hostport[close + 1] !== ':') return undefined;
    return { host: hostport.slice(1, close), port: hostport.slice(close + 2) };
  }
  const colon = hostport.lastIndexOf(':');
  if (colon === -1 || hostport.indexOf(':') !== colon) return undefined; // none, or a bare IPv6 address
  return { host: hostport.slice(0, colon), port: hostport.slice(colon + 1) };
}

/** The base URL nerion connects to for an `OLLAMA_HOST` value (see the file comment). CONFIG_INVALID for a scheme Ollama's client cannot use. */
export function ollamaHostToBaseUrl(value: string): string {
  const text = value.trim().replace(/^["' ]+|["' ]+$/g, '');
  let defaultPort = String(OLLAMA_DEFAULT_PORT);
  let scheme = 'http';
  let hostport = text;
  const separator = text.indexOf('://');
  if (separator === -1) {
    if (text === 'ollama.com') return 'https://ollama.com:443';
  } else {
    scheme = text.slice(0, separator);
    hostport = text.slice(separator + 3);
    if (scheme === 'http') defaultPort = '80';
    else if (scheme === 'https') defaultPort = '443';
    else
      throw new NerionError(
        'CONFIG_INVALID',
        `OLLAMA_HOST="${value}" has the scheme "${scheme}"; Ollama is reached over http:// or https://.`,
        { fix: { settings: ['OLLAMA_HOST', 'NERION_OLLAMA_BASE_URL'] }, data: { name: 'OLLAMA_HOST' } },
      );
  }
  const slash = hostport.indexOf('/');
  const path = slash === -1 ? '' : hostport.slice(slash + 1);
  hostport = slash === -1 ? hostport : hostport.slice(0, slash);
  if (hostport.includes('@'))
    throw new NerionError(
      'CONFIG_INVALID',
      'OLLAMA_HOST carries credentials (user:password@); nerion does not send them in URLs — use a proxy that adds them.',
      { fix: { settings: ['OLLAMA_HOST', 'NERION_OLLAMA_BASE_URL'] }, data: { name: 'OLLAMA_HOST' } },
    );

  let host: string;
  let port: string;
  const split = splitHostPort(hostport);
  if (split) {
    ({ host, port } = split);
  } else {
    host = '127.0.0.1';
    port = defaultPort;
    const bare = hostport.replace(/^\[(.*)\]$/, '$1');
    if (isIpv4(bare) || bare.includes(':')) host = bare;
    else if (hostport !== '') host = hostport;
  }
  const number = /^\d+$/.test(port) ? Number(port) : Number.NaN;
  if (!(number >= 0 && number <= 65535)) port = defaultPort;
  else port = String(number);

  // ConnectableHost: a missing or unspecified host is reached on loopback.
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::' || /^(0*:)+0*$/.test(host) || host === '::0') host = '::1';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${hostPart}:${port}${path ? `/${path}` : ''}`;
}

/**
 * The command that starts Ollama where `baseUrl` points, as argv: `ollama serve` on the default
 * endpoint, else `env OLLAMA_HOST=<host>:<port> ollama serve` (Ollama reads its listen address from
 * OLLAMA_HOST). For another machine the host stays as written: run it there.
 */
export function ollamaServeCommand(baseUrl: string): string[] {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return ['ollama', 'serve'];
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (local && port === String(OLLAMA_DEFAULT_PORT) && url.protocol === 'http:') return ['ollama', 'serve'];
  const host = local ? '127.0.0.1' : url.hostname;
  return ['env', `OLLAMA_HOST=${host}:${port}`, 'ollama', 'serve'];
}
