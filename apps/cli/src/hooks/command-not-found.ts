/**
 * oclif's `command_not_found` hook: `nerion doctr` → "Did you mean `nerion doctor`?" (the nearest command
 * names by @nerion/catalog's nearestNames), on stderr, and `{"error": …}` on stdout under --json; exit 127
 * as a shell's "command not found". Runs only when no command matched, so start-up never pays for it.
 */
import type { Hook } from '@oclif/core';
import { NerionError } from '@nerion/backend-core';
import { nearestNames } from '@nerion/catalog';
import { colorsFor } from '../colors.js';
import { EXIT_STATUS } from '../exit-status.js';

const hook: Hook.CommandNotFound = async function (options) {
  const bin = options.config.bin;
  const spaced = (id: string): string => id.replaceAll(':', ' ');
  const visible = options.config.commands.filter((command) => !command.hidden).map((command) => command.id);
  const typed = spaced(options.id);
  // Prefer commands of the same topic (`models lst` → `models list`), then any command.
  const suggestions = nearestNames(typed, visible.map(spaced));
  const topic = options.id.includes(':') ? options.id.split(':')[0] : undefined;
  const helpCommand = topic !== undefined && options.config.findTopic(topic) ? ['help', topic] : ['help'];
  const best = suggestions[0];
  const rest = options.argv ?? [];
  const error = new NerionError(
    'UNKNOWN_COMMAND',
    `"${bin} ${typed}" is not a ${bin} command.${
      best === undefined ? '' : ` Did you mean ${suggestions.map((entry) => `\`${bin} ${entry}\``).join(' or ')}?`
    } Run \`${bin} ${helpCommand.join(' ')}\` for the list of commands.`,
    {
      data: { command: typed, suggestions: suggestions.map((entry) => `${bin} ${entry}`) },
      fix: { command: best === undefined ? [bin, ...helpCommand] : [bin, ...best.split(' '), ...rest] },
    },
  );
  const status = EXIT_STATUS.UNKNOWN_COMMAND;
  process.stderr.write(`${colorsFor(process.stderr).red(`Error [${error.code}]:`)} ${error.message}\n`);
  if (rest.includes('--json') || process.argv.includes('--json'))
    process.stdout.write(`${JSON.stringify({ error: { ...error.toJSON(), exitStatus: status } }, null, 2)}\n`);
  this.exit(status);
};

export default hook;
