import { NerionError, type CoderBackend } from '@nerion/backend-core';
import type { BackendContext } from './index.js';

export async function createOllamaFromConfig(model: string, _context: BackendContext): Promise<CoderBackend> {
  throw new NerionError('NOT_AVAILABLE', `The ollama backend is not available in this build yet (issue #4); cannot serve "${model}".`);
}
