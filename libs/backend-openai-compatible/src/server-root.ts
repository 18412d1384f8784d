import { parseBaseUrl, serverRoot } from '@nerion/backend-core';

/** `http://host:8000/v1/` → `http://host:8000` (parsed by core's one base-URL parser). */
export function serverRootFromBaseUrl(baseUrl: string): string {
  return serverRoot(parseBaseUrl(baseUrl, { example: 'http://localhost:8000' }), { dropV1: true });
}
