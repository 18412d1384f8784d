/**
 * Where `nerion plan` takes its instruction from: `-i TEXT`, `-i -` (stdin) or `--instruction-file FILE`
 * (a shell argument cannot carry more than 128 KiB, and multi-line text is easier in a file). Input is read
 * only up to what the limit can hold, trimmed, then checked against the planner's MAX_INSTRUCTION_LENGTH.
 * Shared by the fast path and the command: stdin is read once per process and remembered.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { NerionError, describeError } from '@nerion/backend-core';

export interface InstructionSource {
  /** `-i`: the text, or `-` for stdin. */
  instruction: string | undefined;
  /** `--instruction-file`. */
  instructionFile: string | undefined;
}

/** The limit (characters) and what it allows in UTF-8 (at most 4 bytes a character). */
interface Limit {
  chars: number;
  bytes: number;
}

const tooLong = (where: string, limit: Limit): NerionError =>
  new NerionError(
    'INVALID_REQUEST',
    `The instruction in ${where} is longer than the limit of ${limit.chars} characters. Shorten it: say what to change and name the file with -f, rather than pasting code or documents.`,
    { data: { limit: limit.chars } },
  );

/**
 * Stdin as read, once per process. The fast path runs as a bundled copy of this module
 * (dist/plan-fast-path.bundle.cjs) and the command as dist/instruction-input.js, so the text is kept in a
 * global slot both copies share, not in module state.
 */
const STDIN_TEXT = Symbol.for('nerion.instruction-input.stdin');
const slot = globalThis as { [STDIN_TEXT]?: Promise<string> };

async function readStdin(stream: NodeJS.ReadStream, note: (message: string) => void, limit: Limit): Promise<string> {
  if (stream.isTTY) note('Reading the instruction from stdin (end it with Ctrl-D).');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit.bytes) {
      stream.destroy();
      throw tooLong('stdin', limit);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Synchronous, like every file read on the plan-cache hit path (no thread-pool round trips). */
function readInstructionFile(file: string, limit: Limit): string {
  const refuse = (why: string, cause?: unknown): never => {
    throw new NerionError('INVALID_REQUEST', `Cannot read the instruction file ${file} (${why}).`, {
      data: { file },
      ...(cause === undefined ? {} : { cause }),
    });
  };
  let descriptor;
  try {
    descriptor = openSync(file, 'r');
  } catch (error) {
    return refuse(describeError(error), error);
  }
  try {
    // A FIFO is fine here (`--instruction-file <(…)`); the read stops at the limit either way.
    if (fstatSync(descriptor).isDirectory()) return refuse('it is a directory');
    const buffer = Buffer.alloc(limit.bytes + 1);
    let filled = 0;
    for (;;) {
      const bytesRead = readSync(descriptor, buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) throw tooLong(file, limit);
    }
    return buffer.subarray(0, filled).toString('utf8');
  } catch (error) {
    if (NerionError.isInstance(error)) throw error;
    return refuse(describeError(error), error);
  } finally {
    closeSync(descriptor);
  }
}

/** The instruction text (trimmed when it came from stdin or a file), within the limit; throws INVALID_REQUEST. */
export async function readInstruction(
  source: InstructionSource,
  options: { stdin?: NodeJS.ReadStream; note?: (message: string) => void } = {},
): Promise<string> {
  // The planner owns the limit (light module; loaded lazily, as everywhere in the CLI).
  const { MAX_INSTRUCTION_LENGTH, checkInstructionLength } = await import('@nerion/planner/validation');
  const limit = { chars: MAX_INSTRUCTION_LENGTH, bytes: MAX_INSTRUCTION_LENGTH * 4 };
  let text: string;
  if (source.instructionFile !== undefined) text = readInstructionFile(source.instructionFile, limit).trim();
  else if (source.instruction === '-') {
    slot[STDIN_TEXT] ??= readStdin(options.stdin ?? process.stdin, options.note ?? (() => undefined), limit);
    text = (await slot[STDIN_TEXT]).trim();
  } else if (source.instruction !== undefined) text = source.instruction;
  else
    throw new NerionError(
      'INVALID_REQUEST',
      'No instruction: pass -i TEXT, -i - (read it from stdin) or --instruction-file FILE.',
    );
  checkInstructionLength(text);
  return text;
}
