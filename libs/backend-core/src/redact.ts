/**
 * Secrets in URLs are never shown: a user name or password (`http://user:secret@host`) becomes `***@`,
 * and every query value (`?token=abc&x=1`) becomes `***`. `redactUrl` takes one URL; `redactSecrets`
 * rewrites every URL inside a text (an error message, a log line). Used wherever nerion prints a URL:
 * NerionError messages and data, the CLI's output, a plan's fallback reason.
 */

// A scheme, `://`, then everything up to whitespace or a quote/bracket that cannot be part of a URL here.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`\\]+/giu;
// Punctuation that ends a sentence or closes a bracket, not part of the URL it follows.
const TRAILING = /[).,;:!?\]}]+$/u;

export function redactUrl(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/isu.exec(url);
  if (!scheme) return url;
  const [, prefix, authority, rest] = scheme as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const host = at === -1 ? authority : `***@${authority.slice(at + 1)}`;
  const query = rest.indexOf('?');
  if (query === -1) return `${prefix}${host}${rest}`;
  const hash = rest.indexOf('#', query);
  const end = hash === -1 ? rest.length : hash;
  const params = rest
    .slice(query + 1, end)
    .split('&')
    .map((param) => {
      if (param === '') return param;
      const equals = param.indexOf('=');
      return equals === -1 ? '***' : `${param.slice(0, equals)}=***`;
    })
    .join('&');
  return `${prefix}${host}${rest.slice(0, query)}?${params}${rest.slice(end)}`;
}

/** Every URL in `text` passed through redactUrl; the rest of the text is unchanged. */
export function redactSecrets(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (match) => {
    const trailing = TRAILING.exec(match)?.[0] ?? '';
    const url = trailing === '' ? match : match.slice(0, -trailing.length);
    return `${redactUrl(url)}${trailing}`;
  });
}

/** A copy of a JSON-like value with redactSecrets applied to every string in it (keys unchanged). */
export function redactSecretsDeep<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((item) => redactSecretsDeep(item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = redactSecretsDeep(item);
    return copy as T;
  }
  return value;
}
