import { NerionError } from '@nerion/backend-core';

/**
 * Resolves to the NerionError the promise rejected with, so a test can read `.code`.
 * Throws when the promise resolves, or when it rejects with anything other than a NerionError.
 */
export async function rejection(promise: Promise<unknown>): Promise<NerionError> {
  try {
    await promise;
  } catch (error) {
    if (NerionError.isInstance(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`expected a NerionError, but the call rejected with: ${message}`, { cause: error });
  }
  throw new Error('expected the call to reject, but it resolved');
}

/**
 * The synchronous twin of `rejection`: returns the NerionError `run` threw, so a test can read `.code`.
 * Throws when `run` returns, or when it throws anything other than a NerionError.
 */
export function thrown(run: () => unknown): NerionError {
  try {
    run();
  } catch (error) {
    if (NerionError.isInstance(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`expected a NerionError, but the call threw: ${message}`, { cause: error });
  }
  throw new Error('expected the call to throw, but it returned');
}
