export {
  STAND_IN_VERSION,
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
  type OpenAICompatibleServerOptions,
} from './openai-compatible-server.js';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The vLLM stand-in's entry file (libs/test-support/src/openai-server/main.ts). */
export const VLLM_STAND_IN_MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * A launch command that runs the vLLM stand-in like `vllm serve`: nerion appends `<repo> --served-model-name
 * <name> --host 127.0.0.1 --port <port>`. tsx is named by absolute URL, so it works from any working directory.
 */
export function vllmStandInCommand(): string[] {
  const tsxLoader = createRequire(import.meta.url).resolve('tsx');
  return [process.execPath, '--import', pathToFileURL(tsxLoader).href, VLLM_STAND_IN_MAIN, 'serve'];
}
