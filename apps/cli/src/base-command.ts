import { Command, Flags, type Interfaces } from '@oclif/core';
import {
  NerionError,
  describeError,
  escapeControlCharacters,
  redactSecrets,
  redactSecretsDeep,
  terminalSafe,
} from '@nerion/backend-core';
import { type ConfigFlags, type NerionConfig, type AutoSelection } from '@nerion/config';
import { loadNerionConfig } from './environment.js';
import { EXIT_STATUS } from './exit-status.js';
import { renderError } from './render-error.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof NerionCommand)['baseFlags'] & T['flags']
>;

/**
 * Base of every nerion command: `--json` prints the typed result of run(); errors become
 * `Error [CODE]: message` on stderr (or `{"error": …}` with --json) and a stable exit status.
 */
export abstract class NerionCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    verbose: Flags.boolean({ description: 'Print the cause chain of errors.', default: false, helpGroup: 'GLOBAL' }),
  };

  /** The one resolved config (flags > env > config file > auto > defaults); throws CONFIG_INVALID. */
  protected resolveConfig(flags: ConfigFlags = {}, auto?: AutoSelection): NerionConfig {
    return loadNerionConfig({ flags, auto });
  }

  /** Diagnostics go to stderr, so stdout stays parseable. A URL's credentials and query values are hidden. */
  protected note(message: string): void {
    // Warnings also carry text from outside (server messages, file contents): never raw control characters.
    process.stderr.write(`${terminalSafe(redactSecrets(message))}\n`);
  }

  /** Every line a command prints: a URL's credentials and query values are hidden (see backend-core redact.ts). */
  override log(message = '', ...args: unknown[]): void {
    // Text from outside (model names a server lists, its messages) is never raw: escaped, layout kept.
    super.log(escapeControlCharacters(redactSecrets(message), { keepLayout: true }), ...args);
  }

  /** `--json` results go through the same redaction, string by string. */
  protected override toSuccessJson(result: unknown): unknown {
    return redactSecretsDeep(super.toSuccessJson(result));
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (!NerionError.isInstance(error)) {
      // An exit request (this.exit) keeps oclif's behaviour.
      if ((error as { code?: string }).code === 'EEXIT') throw error;
      // oclif's own errors (flag parsing: unknown, missing or invalid flags) keep their text and exit
      // status on stderr; under --json they are an {"error": …} document too, like every other failure.
      if (error.oclif !== undefined || error.exitCode !== undefined) {
        if (!this.jsonEnabled()) throw error;
        const status = error.oclif?.exit ?? error.exitCode ?? 2;
        const usage = new NerionError('INVALID_REQUEST', error.message, {
          fix: { command: ['nerion', ...this.id!.split(':'), '--help'] },
        });
        process.stderr.write(`${renderError(usage, false).join('\n')}\n`);
        process.stdout.write(`${JSON.stringify({ error: { ...usage.toJSON(), exitStatus: status } }, null, 2)}\n`);
        process.exitCode = status;
        return undefined;
      }
      error = new NerionError('INTERNAL', `Unexpected failure: ${describeError(error)}`, { cause: error });
    }
    const nerionError = error as NerionError;
    const status = EXIT_STATUS[nerionError.code];
    const lines = renderError(nerionError, this.argv.includes('--verbose'));
    process.stderr.write(`${lines.join('\n')}\n`);
    if (this.jsonEnabled())
      process.stdout.write(`${JSON.stringify({ error: { ...nerionError.toJSON(), exitStatus: status } }, null, 2)}\n`);
    process.exitCode = status;
    return undefined;
  }
}
