/**
 * Argument lists from configuration (NERION_VLLM_EXTRA_ARGS): a string is split into words by
 * `shell-quote`'s parser — quotes group words, backslashes escape — but it is never run by a shell, so
 * anything a shell would act on (`|`, `;`, `&&`, `>`, a glob, a comment) is CONFIG_INVALID, and `$NAME`
 * stays literal. A YAML list in the config file is taken word for word.
 */
import { createRequire } from 'node:module';
import { NerionError } from '@nerion/backend-core';

import type ShellWordsParse from 'shell-quote/parse.js';

/** shell-quote loads only when an argument list is configured (a plain run never pays for it). */
function loadParse(): typeof ShellWordsParse {
  return createRequire(import.meta.url)('shell-quote/parse.js') as typeof ShellWordsParse;
}

export function parseArgumentList(value: string | readonly unknown[], name: string): string[] {
  if (typeof value !== 'string') {
    return value.map((word, index) => {
      if (typeof word === 'string' || typeof word === 'number' || typeof word === 'boolean') return String(word);
      throw new NerionError(
        'CONFIG_INVALID',
        `${name}[${index}] must be a word (a string or a number), got ${JSON.stringify(word)}.`,
        { fix: { settings: [name] }, data: { name, index } },
      );
    });
  }
  const words: string[] = [];
  for (const token of loadParse()(value, (key: string) => `$${key}`)) {
    if (typeof token === 'string') {
      words.push(token);
      continue;
    }
    const what =
      'comment' in token
        ? `a comment (#${token.comment})`
        : token.op === 'glob'
          ? `a glob (${token.pattern})`
          : `"${token.op}"`;
    throw new NerionError(
      'CONFIG_INVALID',
      `${name} is a list of arguments, never run by a shell, but it contains ${what}; quote it if it is meant as an argument, or remove it.`,
      { fix: { settings: [name] }, data: { name, value } },
    );
  }
  return words;
}
