/**
 * What the local Ollama stand-in reports about a GGUF file in /api/tags, /api/show and /api/ps:
 * Ollama's `details` (format, family, parameter_size, quantization_level), the file's sha256 digest,
 * and a flattened `model_info`, read from the real file with node-llama-cpp's GGUF reader.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface GgufModelCard {
  path: string;
  size: number;
  /** sha256 of the file, hex (as /api/tags reports `digest`). */
  sha256: string;
  modifiedAt: string;
  family: string;
  parameterCount: number;
  parameterSize: string;
  quantizationLevel: string;
  /** The model's trained context length (Ollama clamps num_ctx to it). */
  contextLength: number;
  chatTemplate: string | undefined;
  modelInfo: Record<string, unknown>;
}

// llama.cpp's LLAMA_FTYPE values, as Ollama names them.
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  32: 'BF16',
};
// ggml tensor types, for files that do not record general.file_type.
const TENSOR_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  6: 'Q5_0',
  7: 'Q5_1',
  8: 'Q8_0',
  10: 'Q2_K',
  11: 'Q3_K',
  12: 'Q4_K',
  13: 'Q5_K',
  14: 'Q6_K',
  30: 'BF16',
};

/** Ollama's human parameter size: "7.2B", "494.03M", "45.25K". */
export function formatParameterSize(count: number): string {
  for (const [unit, scale] of [
    ['B', 1e9],
    ['M', 1e6],
    ['K', 1e3],
  ] as const) {
    if (count >= scale) return `${Number((count / scale).toFixed(2))}${unit}`;
  }
  return String(count);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function flatten(prefix: string, value: unknown, into: Record<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flatten(prefix ? `${prefix}.${key}` : key, child, into);
    return;
  }
  // Like Ollama without `verbose`, long arrays (token lists, merges) are reported empty.
  into[prefix] = Array.isArray(value) && value.length > 16 ? [] : value;
}

export async function readGgufModelCard(path: string): Promise<GgufModelCard> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const [info, stats, sha256] = await Promise.all([readGgufFileInfo(path), stat(path), sha256File(path)]);
  const metadata = info.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  const general = metadata.general ?? {};
  const family = String(general.architecture ?? 'unknown');
  const tensors = info.tensorInfo ?? [];
  const parameterCount =
    typeof general.parameter_count === 'number'
      ? general.parameter_count
      : tensors.reduce(
          (sum, tensor) => sum + tensor.dimensions.reduce<number>((product, size) => product * Number(size), 1),
          0,
        );
  let quantizationLevel = typeof general.file_type === 'number' ? FILE_TYPES[general.file_type] : undefined;
  if (!quantizationLevel) {
    const counts = new Map<number, number>();
    for (const tensor of tensors) counts.set(tensor.ggmlType, (counts.get(tensor.ggmlType) ?? 0) + 1);
    const [commonest] = [...counts.entries()].sort((left, right) => right[1] - left[1])[0] ?? [0];
    quantizationLevel = TENSOR_TYPES[commonest] ?? 'unknown';
  }
  const architecture = (info.architectureMetadata ?? {}) as Record<string, unknown>;
  const modelInfo: Record<string, unknown> = {};
  flatten('general', general, modelInfo);
  flatten(family, architecture, modelInfo);
  flatten('tokenizer', metadata.tokenizer ?? {}, modelInfo);
  if (modelInfo['general.parameter_count'] === undefined) modelInfo['general.parameter_count'] = parameterCount;
  const tokenizer = (metadata.tokenizer ?? {}) as Record<string, unknown>;
  return {
    path,
    size: stats.size,
    sha256,
    modifiedAt: stats.mtime.toISOString(),
    family,
    parameterCount,
    parameterSize: formatParameterSize(parameterCount),
    quantizationLevel,
    contextLength: typeof architecture.context_length === 'number' ? architecture.context_length : 2048,
    chatTemplate: typeof tokenizer.chat_template === 'string' ? tokenizer.chat_template : undefined,
    modelInfo,
  };
}
