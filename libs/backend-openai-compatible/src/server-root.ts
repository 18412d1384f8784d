import { NerionError } from '@nerion/backend-core';

/** `http://host:8000/v1/` → `http://host:8000`. */
export function serverRootFromBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (error) {
    throw new NerionError(
      'CONFIG_INVALID',
      `"${baseUrl}" is not a URL; write the server root like http://localhost:8000.`,
      { cause: error },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NerionError('CONFIG_INVALID', `"${baseUrl}" must be an http:// or https:// URL.`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${url.protocol}//${url.host}${path}`;
}
