/**
 * Text that came from outside (a server's error message, an NDJSON line, a file's content in a parse error)
 * made safe to print: control characters are shown as escapes (`\x1b`, `\x07`, `\u009b`, `\u202e`), so an
 * ANSI/OSC sequence can neither colour, retitle, hyperlink nor rewrite the user's terminal, and a huge text
 * is cut at a word boundary with its size. Every backend that puts server text into an error or a warning
 * uses `serverText`; the CLI runs `terminalSafe` over everything it prints on stderr.
 */

/** The most characters of one server-provided text kept in a message (before escaping). */
export const SERVER_TEXT_MAX_CHARS = 1000;

// C0 (ESC, BEL, CR, LF, TAB, …), DEL and C1 (CSI 0x9b, OSC 0x9d, …); Unicode format characters that reorder
// or hide text (bidi overrides and isolates, zero-width characters, line/paragraph separators, BOM).
/* eslint-disable no-control-regex -- matching control characters is the point */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/gu;
const UNSAFE_KEEPING_LAYOUT =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/gu;
/* eslint-enable no-control-regex */

function escapeCharacter(character: string): string {
  if (character === '\n') return '\\n';
  if (character === '\r') return '\\r';
  if (character === '\t') return '\\t';
  const code = character.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control and text-reordering character shown as an escape (`keepLayout`: newlines and tabs kept). */
export function escapeControlCharacters(text: string, options: { keepLayout?: boolean } = {}): string {
  return text.replace(options.keepLayout ? UNSAFE_KEEPING_LAYOUT : UNSAFE, escapeCharacter);
}

/** `1.2 MB`, `340 KB`, `900 bytes` (decimal units). */
function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/**
 * The start of `text`, at most `maxChars` long, cut at a word boundary: at the last whitespace (else the last
 * character that is neither a letter, a digit nor a decimal point inside a number), never inside a word, a
 * number or a surrogate pair. Only a single token longer than `maxChars` is cut inside it (there is no
 * boundary to cut at).
 */
export function cutAtWordBoundary(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = text.slice(0, maxChars);
  if (/\s/u.test(text[maxChars])) return trimCut(head);
  const space = head.search(/\s\S*$/u);
  if (space > 0) return trimCut(head.slice(0, space));
  const digit = (character: string | undefined) => character !== undefined && /\p{N}/u.test(character);
  for (let index = head.length - 1; index > 0; index -= 1) {
    const character = head[index];
    if (/[\p{L}\p{N}_]/u.test(character)) continue;
    if (character === '.' && digit(head[index - 1]) && digit(text[index + 1])) continue; // 2.71828
    if (/[\udc00-\udfff]/u.test(character)) continue; // the second half of a surrogate pair
    return trimCut(head.slice(0, index));
  }
  return trimCut(head);
}

/** Drops trailing whitespace and a dangling high surrogate. */
function trimCut(text: string): string {
  return text.replace(/[\ud800-\udbff]$/u, '').trimEnd();
}

const CUT_NOTE = /… \(cut: ([^()]+) in all\)$/u;

/**
 * Escapes, then bounds: at most `maxChars` characters plus the cut note (`… (cut: 10.5 MB in all)`), however
 * many escapes it took. A text that already ends with a cut note (cut earlier, e.g. where a body was read)
 * keeps that note's size. `totalBytes` gives the size of the whole text when only its start is at hand.
 */
function bounded(
  text: string,
  maxChars: number,
  keepLayout: boolean,
  total?: { totalBytes?: number; atLeast?: boolean },
): string {
  let size =
    total?.totalBytes === undefined ? undefined : `${total.atLeast ? 'more than ' : ''}${formatSize(total.totalBytes)}`;
  const earlier = CUT_NOTE.exec(text);
  if (earlier) {
    text = text.slice(0, earlier.index);
    size ??= earlier[1];
  }
  const start = text.length > maxChars ? cutAtWordBoundary(text, maxChars) : text;
  const escaped = escapeControlCharacters(start, { keepLayout });
  // Escapes lengthen the text; cut again (before a backslash at worst, so never inside an escape).
  const safe = escaped.length > maxChars ? cutAtWordBoundary(escaped, maxChars) : escaped;
  if (start === text && safe === escaped && size === undefined) return safe;
  return `${safe}… (cut: ${size ?? formatSize(Buffer.byteLength(text, 'utf8'))} in all)`;
}

/**
 * Server-provided text for a message: control characters escaped, then cut at a word boundary to at most
 * `maxChars` characters with an ellipsis and the whole text's size (`… (cut: 10.5 MB in all)`; `totalBytes`
 * when only the start of a larger text was read; `atLeast` when even that is unknown).
 */
export function serverText(
  value: unknown,
  maxChars: number = SERVER_TEXT_MAX_CHARS,
  options: { totalBytes?: number; atLeast?: boolean } = {},
): string {
  return bounded(typeof value === 'string' ? value : String(value), maxChars, false, options);
}

/**
 * What the CLI prints on stderr: control characters escaped (newlines and tabs kept: messages may have
 * several lines, tables have tabs), at most `maxChars` characters, cut at a word boundary.
 */
export function terminalSafe(text: string, maxChars = 16_000): string {
  return bounded(text, maxChars, true);
}
