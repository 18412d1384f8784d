/** Plain text helpers for edits located by the parser: splices, line boundaries, indentation. */

export interface Splice {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping splices (any order) to `text`. */
export function applySplices(text: string, splices: readonly Splice[]): string {
  const sorted = [...splices].sort((left, right) => right.start - left.start || right.end - left.end);
  let result = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const splice of sorted) {
    if (splice.end > limit) throw new Error('overlapping edits');
    result = result.slice(0, splice.start) + splice.text + result.slice(splice.end);
    limit = splice.start;
  }
  return result;
}

/** Index of the start of the line holding `index`. */
export function lineStart(text: string, index: number): number {
  return text.lastIndexOf('\n', index - 1) + 1;
}

/** Index just past the newline ending the line holding `index` (or the text's end). */
export function lineEnd(text: string, index: number): number {
  const newline = text.indexOf('\n', index);
  return newline === -1 ? text.length : newline + 1;
}

/** The whitespace that starts the line holding `index`. */
export function indentOf(text: string, index: number): string {
  const start = lineStart(text, index);
  return /^[ \t]*/u.exec(text.slice(start))![0];
}

/** The file's indentation unit (the smallest indentation in use), default four spaces for Python, two otherwise. */
export function indentUnit(text: string, python: boolean): string {
  let best: string | undefined;
  for (const match of text.matchAll(/^([ \t]+)\S/gmu)) {
    const indent = match[1];
    if (indent.includes('\t')) return '\t';
    if (best === undefined || indent.length < best.length) best = indent;
  }
  return best ?? (python ? '    ' : '  ');
}

/** Removes the common leading indentation of the non-blank lines. */
export function dedent(code: string): string {
  const lines = code.replace(/\r\n/gu, '\n').split('\n');
  let common: string | undefined;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const indent = /^[ \t]*/u.exec(line)![0];
    if (common === undefined || !indent.startsWith(common)) {
      let shared = 0;
      const reference = common ?? indent;
      while (shared < reference.length && shared < indent.length && reference[shared] === indent[shared]) shared += 1;
      common = common === undefined ? indent : reference.slice(0, shared);
    }
  }
  const cut = common?.length ?? 0;
  return lines.map((line) => (line.trim() === '' ? '' : line.slice(cut))).join('\n');
}

/** Dedents `code` and indents every non-blank line by `indent`; no trailing newline. */
export function reindent(code: string, indent: string): string {
  return dedent(code)
    .replace(/\n+$/u, '')
    .replace(/^\n+/u, '')
    .split('\n')
    .map((line) => (line === '' ? '' : indent + line))
    .join('\n');
}

/**
 * Inserts `block` (no trailing newline) at a line boundary `at`, with `blank` blank lines between it and
 * the code before and after (existing blank lines around `at` are kept when there are more).
 */
export function insertBlock(text: string, at: number, block: string, blank: number, blankAfter = blank): string {
  let source = text;
  if (at === source.length && source.length > 0 && !source.endsWith('\n')) {
    source += '\n';
    at = source.length;
  }
  // Widen [from, to) over the blank lines around the insertion point.
  let from = at;
  while (from > 0) {
    const previous = lineStart(source, from - 1);
    if (source.slice(previous, from).trim() !== '') break;
    from = previous;
  }
  let to = at;
  while (to < source.length) {
    const next = lineEnd(source, to);
    if (source.slice(to, next).trim() !== '') break;
    to = next;
  }
  const existing = source.slice(from, to).split('\n').length - 1;
  const before = source.slice(0, from);
  const after = source.slice(to);
  const body = block.replace(/\n+$/u, '');
  return (
    before +
    (before.length > 0 ? '\n'.repeat(blank) : '') +
    body +
    '\n' +
    (after.length > 0 ? '\n'.repeat(Math.max(blankAfter, existing)) : '') +
    after
  );
}

/** 1-based line number of an index. */
export function lineNumberAt(text: string, index: number): number {
  let line = 1;
  for (
    let position = text.indexOf('\n');
    position !== -1 && position < index;
    position = text.indexOf('\n', position + 1)
  )
    line += 1;
  return line;
}
