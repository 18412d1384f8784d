import { NerionError, type CoderBackend } from '@nerion/backend-core';
import type { BackendContext } from './index.js';

export async function createVllmFromConfig(model: string, _context: BackendContext): Promise<CoderBackend> {
  throw new NerionError('NOT_AVAILABLE', `The vllm backend is not available in this build yet (issue #5); cannot serve "${model}".`);
}
