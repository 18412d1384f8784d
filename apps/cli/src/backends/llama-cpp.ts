import { NerionError, type CoderBackend } from '@nerion/backend-core';
import type { BackendContext } from './index.js';

export async function createLlamaCppFromConfig(model: string, _context: BackendContext): Promise<CoderBackend> {
  throw new NerionError('NOT_AVAILABLE', `The llama-cpp backend is not available in this build yet (issue #3); cannot serve "${model}".`);
}
