/** The instruction's bound, checked before any planning work (valibot-free: the cache-hit path uses it). */
import { NerionError } from '@nerion/backend-core';
import { MAX_INSTRUCTION_LENGTH } from './plan-constants.js';

/** Throws INVALID_REQUEST naming the limit when the instruction is longer than MAX_INSTRUCTION_LENGTH. */
export function checkInstructionLength(instruction: string): void {
  if (instruction.length <= MAX_INSTRUCTION_LENGTH) return;
  throw new NerionError(
    'INVALID_REQUEST',
    `The instruction is ${instruction.length} characters long; the limit is ${MAX_INSTRUCTION_LENGTH} characters. Shorten it: say what to change and name the file with -f, rather than pasting code or documents.`,
    { data: { length: instruction.length, limit: MAX_INSTRUCTION_LENGTH } },
  );
}
