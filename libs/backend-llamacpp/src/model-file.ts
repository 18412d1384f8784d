/**
 * Checks a GGUF path before llama.cpp sees it, so a bad file is a typed error naming the file and the fix
 * (llama.cpp's own failure is a bare "failed to load model").
 */
import { open, stat } from 'node:fs/promises';
import { NerionError, describeError, shellJoin } from '@nerion/backend-core';
import type { GgufFileInfo, GgufInsights, Llama } from 'node-llama-cpp';

/** What the GGUF header says, for probe() and the memory check. */
export interface GgufSummary {
  path: string;
  sizeBytes: number;
  architecture: string | undefined;
  name: string | undefined;
  /** The context length the model was trained with (`<arch>.context_length`). */
  contextLength: number | undefined;
  chatTemplate: string | undefined;
  tensorCount: number;
  /** File offset of the first tensor's data. */
  dataOffset: number | undefined;
}

/** Downloads the file again: `--force`, because a plain `ensure` finds the (bad) file present and stops there. */
export function ensureCommand(model: string): string {
  return shellJoin(ensureArgv(model));
}

/** The command that provisions `model`'s GGUF again, as argv (a NerionError's `fix.command`). */
export function ensureArgv(model: string): string[] {
  return ['nerion', 'models', 'ensure', '--backend', 'llama_cpp', '--model', model, '--force'];
}

/** Throws MODEL_NOT_FOUND unless `path` names an existing regular file. Returns its size. */
export async function checkModelPath(
  path: string | undefined,
  model: string,
): Promise<{ path: string; sizeBytes: number }> {
  if (!path || path.trim() === '') {
    throw new NerionError(
      'MODEL_NOT_FOUND',
      `No GGUF file is configured for llama_cpp model "${model}" — set LLAMA_CPP_MODEL_PATH=/path/to/model.gguf or run \`${ensureCommand(model)}\`.`,
      { fix: { settings: ['LLAMA_CPP_MODEL_PATH'], command: ensureArgv(model) }, data: { model } },
    );
  }
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new NerionError(
        'MODEL_NOT_FOUND',
        `The GGUF file ${path} does not exist — check LLAMA_CPP_MODEL_PATH or run \`${ensureCommand(model)}\` to download it.`,
        {
          fix: { settings: ['LLAMA_CPP_MODEL_PATH'], command: ensureArgv(model) },
          cause: error,
          data: { path, model },
        },
      );
    }
    throw new NerionError(
      'MODEL_LOAD_FAILED',
      `Cannot read the GGUF file ${path} (${describeError(error)}) — check its permissions.`,
      { cause: error, data: { path, model } },
    );
  }
  if (stats.isDirectory()) {
    throw new NerionError(
      'MODEL_NOT_FOUND',
      `${path} is a directory, not a GGUF file — set LLAMA_CPP_MODEL_PATH to the .gguf file itself (e.g. ${path.replace(/\/+$/, '')}/model.gguf).`,
      { fix: { settings: ['LLAMA_CPP_MODEL_PATH'] }, data: { path, model } },
    );
  }
  if (!stats.isFile()) {
    throw new NerionError(
      'MODEL_LOAD_FAILED',
      `${path} is not a regular file — set LLAMA_CPP_MODEL_PATH to a .gguf file.`,
      { fix: { settings: ['LLAMA_CPP_MODEL_PATH'] }, data: { path, model } },
    );
  }
  return { path, sizeBytes: stats.size };
}

/** Reads the first bytes: throws MODEL_LOAD_FAILED when the file is not GGUF (and says what it looks like). */
export async function checkGgufMagic(path: string, model: string): Promise<void> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(64);
    const { bytesRead } = await handle.read(buffer, 0, 64, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (head.subarray(0, 4).toString('latin1') === 'GGUF') return;
  const text = head.toString('utf8');
  const looksLike =
    head.length === 0
      ? 'it is empty'
      : text.startsWith('version https://git-lfs')
        ? 'it is a Git LFS pointer, not the model itself'
        : /^\s*</.test(text)
          ? 'it looks like an HTML page (a failed download?)'
          : `it starts with ${JSON.stringify(head.subarray(0, 4).toString('latin1'))}`;
  throw new NerionError(
    'MODEL_LOAD_FAILED',
    `${path} is not a GGUF file (${looksLike}) — re-download it with \`${ensureCommand(model)}\` or point LLAMA_CPP_MODEL_PATH at a .gguf file.`,
    { fix: { settings: ['LLAMA_CPP_MODEL_PATH'], command: ensureArgv(model) }, data: { path, model } },
  );
}

/** Parses the header; throws MODEL_LOAD_FAILED for a corrupt header or tensors that start past the end of the file. */
export async function readGgufSummary(
  path: string,
  sizeBytes: number,
  model: string,
): Promise<{ summary: GgufSummary; fileInfo: GgufFileInfo }> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  let fileInfo: GgufFileInfo;
  try {
    fileInfo = await readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: false });
  } catch (error) {
    throw new NerionError(
      'MODEL_LOAD_FAILED',
      `${path} has a truncated or corrupt GGUF header (${describeError(error)}) — re-download it with \`${ensureCommand(model)}\`.`,
      { fix: { command: ensureArgv(model) }, cause: error, data: { path, model } },
    );
  }
  const tensors = fileInfo.fullTensorInfo ?? fileInfo.tensorInfo ?? [];
  let firstOffset = Number.POSITIVE_INFINITY;
  let lastOffset = 0;
  for (const tensor of tensors) {
    lastOffset = Math.max(lastOffset, Number(tensor.fileOffset));
    firstOffset = Math.min(firstOffset, Number(tensor.fileOffset));
  }
  if (tensors.length > 0 && lastOffset >= sizeBytes) throw truncated(path, model, sizeBytes, lastOffset + 1);
  const metadata = fileInfo.metadata as unknown as {
    general?: { architecture?: string; name?: string };
    tokenizer?: { chat_template?: string };
  };
  const architectureMetadata = fileInfo.architectureMetadata as { context_length?: number } | undefined;
  return {
    fileInfo,
    summary: {
      path,
      sizeBytes,
      architecture: metadata.general?.architecture,
      name: metadata.general?.name,
      contextLength: architectureMetadata?.context_length,
      chatTemplate: metadata.tokenizer?.chat_template || undefined,
      tensorCount: tensors.length,
      dataOffset: tensors.length > 0 ? firstOffset : undefined,
    },
  };
}

/**
 * The weights must fit in the file: a download cut short fails here rather than deep inside llama.cpp.
 * (A lower bound: the first tensor's offset plus the size of all tensors, alignment padding not counted.)
 */
export async function checkWeightsInFile(
  summary: GgufSummary,
  fileInfo: GgufFileInfo,
  llama: Llama,
  model: string,
): Promise<GgufInsights> {
  const { GgufInsights } = await import('node-llama-cpp');
  const insights = await GgufInsights.from(fileInfo, llama);
  if (summary.dataOffset !== undefined && summary.dataOffset + insights.modelSize > summary.sizeBytes) {
    throw truncated(summary.path, model, summary.sizeBytes, summary.dataOffset + insights.modelSize);
  }
  return insights;
}

function truncated(path: string, model: string, sizeBytes: number, requiredBytes: number): NerionError {
  return new NerionError(
    'MODEL_LOAD_FAILED',
    `${path} is truncated: its header describes at least ${requiredBytes} bytes of header and weights but the file has ${sizeBytes} — re-download it with \`${ensureCommand(model)}\`.`,
    { fix: { command: ensureArgv(model) }, data: { path, model, sizeBytes, requiredBytes } },
  );
}
