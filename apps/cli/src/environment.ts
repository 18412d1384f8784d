/**
 * The one place nerion reads the process environment and the config file. Everything below the CLI
 * receives the resolved, immutable NerionConfig (or settings derived from it).
 */
import {
  defaultConfigFilePath,
  loadConfigFile,
  resolveConfig,
  type AutoSelection,
  type ConfigFlags,
  type NerionConfig,
} from '@nerion/config';

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  auto?: AutoSelection;
  env?: Readonly<Record<string, string | undefined>>;
}

export function loadNerionConfig(options: LoadConfigOptions = {}): NerionConfig {
  const env = options.env ?? process.env;
  const file = loadConfigFile(defaultConfigFilePath(env));
  return resolveConfig({ env, flags: options.flags, file, auto: options.auto, cwd: process.cwd() });
}

/** Whether stdout/stderr is an interactive terminal (progress bars and colour only then). */
export function isInteractive(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && process.env.CI !== 'true' && process.env.TERM !== 'dumb';
}

/**
 * Whether to colour what is written to `stream`: FORCE_COLOR (any value but `0`/`false`) forces it on,
 * NO_COLOR (any non-empty value, https://no-color.org) turns it off, else only on an interactive terminal.
 * FORCE_COLOR wins over NO_COLOR, as in Node's own `util.styleText`.
 */
export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

/**
 * NERION_LLAMA_BUILD_CLI: a stand-in for node-llama-cpp's CLI in `nerion doctor --build-llama` (a test seam,
 * documented in docs/development.md: the real build takes 10–60 minutes and cannot run in the test suite).
 */
/** The environment a build tool runs with (`nerion doctor --build-llama`): this process's, as it is. */
export function buildToolEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}

export function llamaBuildCliOverride(): string | undefined {
  const value = process.env.NERION_LLAMA_BUILD_CLI;
  return value === undefined || value === '' ? undefined : value;
}
