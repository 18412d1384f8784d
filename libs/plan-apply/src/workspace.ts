/**
 * The files a plan touches, held in memory: what each was on disk (bytes, or absent) and what it is after the
 * edits so far. Text is kept with `\n` line ends; a file that used `\r\n` throughout, or began with a BOM,
 * gets them back when written.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NerionError } from '@nerion/backend-core';
import { normaliseRepoPath } from '@nerion/planner';

/** Files larger than this are not edited (a plan's own content is bounded at 300 KB). */
export const MAX_EDITED_FILE_BYTES = 8 * 1024 * 1024;

export interface FileState {
  readonly path: string;
  /** The bytes on disk when first read; null when the file did not exist. */
  readonly original: Buffer | null;
  /** The text as first read (`\n` line ends), null when absent. */
  readonly originalText: string | null;
  /** The current text, null when absent (deleted or never created). */
  text: string | null;
  readonly crlf: boolean;
  readonly bom: boolean;
}

export class Workspace {
  private readonly files = new Map<string, FileState>();

  constructor(readonly root: string) {}

  /** The state of a repo-relative file, read from disk on first use. */
  file(path: string): FileState {
    const key = normaliseRepoPath(path);
    let state = this.files.get(key);
    if (state === undefined) {
      state = readState(this.root, key);
      this.files.set(key, state);
    }
    return state;
  }

  exists(path: string): boolean {
    return this.file(path).text !== null;
  }

  /** The current text; throws PRECONDITION_FAILED naming the action when the file does not exist. */
  read(path: string, what: string): string {
    const state = this.file(path);
    if (state.text === null)
      throw new NerionError('PRECONDITION_FAILED', `${what}: the file ${state.path} does not exist.`, {
        data: { path: state.path },
      });
    return state.text;
  }

  write(path: string, text: string): void {
    this.file(path).text = text;
  }

  remove(path: string): void {
    this.file(path).text = null;
  }

  /** Files whose content differs from what was read. */
  changed(): FileState[] {
    return [...this.files.values()].filter((state) => state.text !== state.originalText);
  }

  /** The bytes to write for a file's current text (line ends and BOM as the file had them). */
  static encode(state: FileState): Buffer {
    const text = state.text ?? '';
    const body = state.crlf ? text.replace(/\n/gu, '\r\n') : text;
    return Buffer.from((state.bom ? '\uFEFF' : '') + body, 'utf8');
  }
}

function readState(root: string, path: string): FileState {
  const absolute = join(root, path);
  let bytes: Buffer;
  try {
    const stats = statSync(absolute);
    if (!stats.isFile())
      throw new NerionError('PRECONDITION_FAILED', `${path} is not a regular file; a plan can only edit files.`, {
        data: { path },
      });
    if (stats.size > MAX_EDITED_FILE_BYTES)
      throw new NerionError(
        'PRECONDITION_FAILED',
        `${path} is ${stats.size} bytes; nerion edits files up to ${MAX_EDITED_FILE_BYTES} bytes.`,
        { data: { path, size: stats.size } },
      );
    bytes = readFileSync(absolute);
  } catch (error) {
    if (NerionError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return { path, original: null, originalText: null, text: null, crlf: false, bom: false };
    throw new NerionError('PRECONDITION_FAILED', `Cannot read ${path} (${(error as Error).message}).`, {
      cause: error,
      data: { path },
    });
  }
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new NerionError('PRECONDITION_FAILED', `${path} is not UTF-8 text; nerion edits text files only.`, {
      cause: error,
      data: { path },
    });
  }
  if (decoded.includes('\0'))
    throw new NerionError(
      'PRECONDITION_FAILED',
      `${path} looks binary (it holds NUL bytes); nerion edits text files only.`,
      {
        data: { path },
      },
    );
  const bom = decoded.startsWith('\uFEFF');
  const body = bom ? decoded.slice(1) : decoded;
  const lineBreaks = body.match(/\n/gu)?.length ?? 0;
  const crlfBreaks = body.match(/\r\n/gu)?.length ?? 0;
  const crlf = lineBreaks > 0 && crlfBreaks === lineBreaks;
  const text = crlf ? body.replace(/\r\n/gu, '\n') : body;
  return { path, original: bytes, originalText: text, text, crlf, bom };
}
