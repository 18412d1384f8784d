/**
 * Where a vLLM server is: the base URL parsed into protocol, host, port and whether it is this machine.
 */
import { parseBaseUrl } from '@nerion/backend-core';

export interface ServerAddress {
  protocol: 'http:' | 'https:';
  /** The host as written in the URL (brackets removed from IPv6). */
  host: string;
  /** The port, or the scheme's default (80 for http, 443 for https). */
  port: number;
  /** Whether the host is this machine (localhost, 127.0.0.0/8, ::1, 0.0.0.0): only then can nerion start a server for it. */
  isLocal: boolean;
}

/** Parses the base URL properly (new URL; the scheme's default port when none is written). */
export function serverAddressFromBaseUrl(baseUrl: string): ServerAddress {
  const url = parseBaseUrl(baseUrl, { example: 'http://localhost:8000' });
  const protocol = url.protocol as ServerAddress['protocol'];
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const isLocal = host === 'localhost' || host === '::1' || host === '0.0.0.0' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return { protocol, host, port, isLocal };
}
