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
