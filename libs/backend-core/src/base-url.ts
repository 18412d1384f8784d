import { NerionError } from './errors.js';
import { redactSecrets } from './redact.js';

export interface ParseBaseUrlOptions {
  /** The setting the value came from (`NERION_CODER_BASE_URL`, `--base-url`), named in the error and its fix. */
  name?: string;
  /** An example of a good value for the message, e.g. `http://localhost:11434`. */
  example?: string;
}

/**
 * The one base-URL parser every backend and the config share: an http(s) URL (WHATWG `URL`), else
 * CONFIG_INVALID naming the setting. Callers take what they need from the URL (root, host, port).
 */
export function parseBaseUrl(value: string, options: ParseBaseUrlOptions = {}): URL {
  const { name, example = 'http://localhost:8000' } = options;
  const label = name === undefined ? `"${value}"` : `${name}="${value}"`;
  const fix = name === undefined || name.startsWith('-') ? {} : { fix: { settings: [name] } };
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch (error) {
    throw new NerionError('CONFIG_INVALID', `${label} is not a URL. Write it like ${example}.`, {
      cause: error,
      data: { ...(name === undefined ? {} : { name }), value },
      ...fix,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NerionError('CONFIG_INVALID', `${label} must be an http:// or https:// URL.`, {
      data: { ...(name === undefined ? {} : { name }), value },
      ...fix,
    });
  }
  if (url.username !== '' || url.password !== '') {
    // fetch refuses such URLs, and the password would be printed wherever the URL is shown.
    throw new NerionError(
      'CONFIG_INVALID',
      `${name ?? 'The base URL'} contains a user name or password; nerion does not send credentials in URLs. Remove the "user:password@" part${name === undefined ? '' : ` from ${name}`} (put an authenticating proxy or a token-free URL there instead).`,
      {
        fix: { settings: [name === undefined || name.startsWith('-') ? 'NERION_CODER_BASE_URL' : name] },
        data: { ...(name === undefined ? {} : { name }), value: redactSecrets(value) },
      },
    );
  }
  return url;
}

/** `http://host:8000/v1/` → `http://host:8000`: the URL without trailing slashes (and without a final `/v1`). */
export function serverRoot(url: URL, options: { dropV1?: boolean } = {}): string {
  let path = url.pathname.replace(/\/+$/, '');
  if (options.dropV1) path = path.replace(/\/v1$/, '');
  return `${url.protocol}//${url.host}${path}`;
}
