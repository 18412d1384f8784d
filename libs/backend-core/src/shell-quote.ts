/** Quoting for commands nerion prints (never runs: commands are spawned with argv, without a shell). */

/** Quotes a word for display in a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A printable command line: the words quoted where needed, joined with spaces. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
