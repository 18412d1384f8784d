export { STAND_IN_VERSION, startOpenAICompatibleServer, type OpenAICompatibleServer, type OpenAICompatibleServerOptions } from './openai-compatible-server.js';
import { fileURLToPath } from 'node:url';

/** The stand-in's entry file, for `[process.execPath, '--import', 'tsx', VLLM_STAND_IN_MAIN, 'serve']` as a launch command. */
export const VLLM_STAND_IN_MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
