/**
 * How an error reads on stderr: `Error [CODE]: message`, then the fix the error carries as data — the variables
 * to set (with the flag that sets each for one run, where one exists) and a command, shell-quoted — or, for an
 * error without one, the hint for its code. Nothing here reads the message text. The `Error [CODE]:` prefix is
 * red when stderr takes colour (colors.ts).
 */
import { describeError, shellJoin, terminalSafe, type NerionError, type NerionErrorFix } from '@nerion/backend-core';
import { SETTING_FLAGS, type ConfigVariable } from '@nerion/config';
import { colorsFor } from './colors.js';
import { HINTS } from './exit-status.js';

/** `Fix:` lines for a NerionError's `fix` (none when it has none). */
export function renderFix(fix: NerionErrorFix | undefined): string[] {
  const lines: string[] = [];
  if (fix?.settings?.length) {
    const settings = fix.settings.map((name) => {
      const flag = SETTING_FLAGS[name as ConfigVariable];
      return flag ? `${name} (or ${flag})` : name;
    });
    lines.push(`Fix: set ${settings.join(', or ')}`);
  }
  if (fix?.command?.length) lines.push(`Fix: run \`${shellJoin(fix.command)}\``);
  return lines;
}

/**
 * Every line printed for `error` (`verbose` adds the cause chain). What the error says is made terminal-safe
 * (control characters escaped, length bounded) before nerion's own colour is added around the prefix.
 */
export function renderError(error: NerionError, verbose: boolean): string[] {
  const lines = [`${colorsFor(process.stderr).red(`Error [${error.code}]:`)} ${terminalSafe(error.message)}`];
  const fixLines = renderFix(error.fix).map((line) => terminalSafe(line));
  if (fixLines.length > 0) lines.push(...fixLines);
  else if (HINTS[error.code]) lines.push(`Hint: ${HINTS[error.code]}`);
  if (verbose) {
    for (let cause = error.cause; cause !== undefined; cause = (cause as { cause?: unknown }).cause) {
      lines.push(`Caused by: ${terminalSafe(describeError(cause))}`);
      if (!(cause instanceof Error)) break;
    }
  }
  return lines;
}
