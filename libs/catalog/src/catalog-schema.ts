/**
 * The catalog's file format (version 1), as valibot schemas over the YAML's own snake_case keys, and the
 * camelCase types the rest of nerion uses. Objects are strict, so a typo (`sha265:`) is an error, not a
 * silently ignored key.
 */
import * as v from 'valibot';

export const CATALOG_FORMAT_VERSION = 1 as const;

/** Task kinds a family is good at, best first. */
export const CATALOG_STRENGTHS = ['plan', 'edit', 'complete', 'explain', 'test', 'fim'] as const;
export type CatalogStrength = (typeof CATALOG_STRENGTHS)[number];

const nonEmpty = v.pipe(v.string(), v.trim(), v.nonEmpty('must not be empty'));
const name = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'must be a name of letters, digits and . _ : / - (no spaces)'),
);
const sha256 = v.pipe(
  v.string(),
  v.regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hexadecimal characters (a sha256 digest)'),
);
const httpUrl = v.pipe(
  v.string(),
  v.check((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL'),
);
const positive = v.pipe(
  v.number(),
  v.minValue(0, 'must be positive'),
  v.check((value) => value > 0, 'must be positive'),
);
const positiveInteger = v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'));
const ggufFilename = v.pipe(
  v.string(),
  v.regex(/^[^/\\]+\.gguf$/, 'must be a plain file name ending in .gguf (no folders)'),
);

export const OllamaEntrySchema = v.strictObject({ tag: name });
export const LlamaCppEntrySchema = v.strictObject({
  repo: v.optional(nonEmpty),
  filename: ggufFilename,
  url: httpUrl,
  size_bytes: v.nullable(positiveInteger),
  sha256: v.nullable(sha256),
  quantization: v.optional(nonEmpty),
});
export const VllmEntrySchema = v.strictObject({ repo: nonEmpty, served_name: name, revision: v.optional(nonEmpty) });
export const ExllamaEntrySchema = v.strictObject({ repo: nonEmpty, revision: v.optional(nonEmpty) });

export const FamilySchema = v.strictObject({
  id: v.pipe(
    v.string(),
    v.regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits and . _ - (no spaces or colons)'),
  ),
  aliases: v.optional(v.array(name), []),
  display_name: nonEmpty,
  parameters_b: positive,
  context_length: positiveInteger,
  memory_gb: positive,
  languages: v.array(nonEmpty),
  strengths: v.array(v.picklist(CATALOG_STRENGTHS, `must be one of: ${CATALOG_STRENGTHS.join(', ')}`)),
  license: v.optional(nonEmpty),
  backends: v.strictObject({
    ollama: v.optional(v.nullable(OllamaEntrySchema)),
    llama_cpp: v.optional(v.nullable(LlamaCppEntrySchema)),
    vllm: v.optional(v.nullable(VllmEntrySchema)),
    exllamav2: v.optional(v.nullable(ExllamaEntrySchema)),
  }),
});

export const CatalogFileSchema = v.strictObject({
  version: v.literal(
    CATALOG_FORMAT_VERSION,
    `must be ${CATALOG_FORMAT_VERSION} (the only catalog format this nerion reads)`,
  ),
  families: v.array(FamilySchema),
});

export type CatalogFileInput = v.InferOutput<typeof CatalogFileSchema>;
export type CatalogFamilyInput = v.InferOutput<typeof FamilySchema>;

export interface OllamaEntry {
  /** The Ollama tag to pull and run, e.g. `qwen2.5-coder:7b`. */
  readonly tag: string;
}

export interface LlamaCppEntry {
  /** The Hugging Face repository the GGUF comes from (informational). */
  readonly repo?: string;
  /** The file name; the download lands at `<cacheDir>/models/llama.cpp/<filename>`. */
  readonly filename: string;
  readonly url: string;
  /** Exact size in bytes, or undefined when the catalog has not verified it. */
  readonly sizeBytes?: number;
  /** Expected sha256 of the file at `url`, or undefined when unverified. */
  readonly sha256?: string;
  readonly quantization?: string;
}

export interface VllmEntry {
  /** The Hugging Face repository vLLM serves (an instruct model). */
  readonly repo: string;
  /** The name nerion asks the server for (`--served-model-name`). */
  readonly servedName: string;
  readonly revision?: string;
}

export interface ExllamaEntry {
  /** The Hugging Face repository of the EXL2 quantisation. */
  readonly repo: string;
  /** The branch holding the chosen bits-per-weight, e.g. `6_5`. */
  readonly revision?: string;
}

export interface CatalogBackends {
  readonly ollama?: OllamaEntry;
  readonly llama_cpp?: LlamaCppEntry;
  readonly vllm?: VllmEntry;
  readonly exllamav2?: ExllamaEntry;
}

export interface CatalogFamily {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly displayName: string;
  /** Parameter count in billions. */
  readonly parametersB: number;
  readonly contextLength: number;
  /** Approximate memory (GB) the default llama.cpp build needs at an 8K context. */
  readonly memoryGb: number;
  readonly languages: readonly string[];
  readonly strengths: readonly CatalogStrength[];
  readonly license?: string;
  /** The entry each backend needs; absent when the family has no verified build for that backend. */
  readonly backends: CatalogBackends;
  /** The catalog file this family was read from (packaged or the user's). */
  readonly source: string;
}

export interface Catalog {
  readonly families: readonly CatalogFamily[];
  /** The files read, packaged first, then the user's catalog when given. */
  readonly sources: readonly string[];
}

/** Backends whose entry the catalog describes, in display order. */
/** The backends a catalog entry can describe (the keys of `backends:` in the catalog file). */
export type CatalogBackendId = keyof CatalogBackends;

export const CATALOG_BACKENDS: readonly CatalogBackendId[] = ['ollama', 'llama_cpp', 'vllm', 'exllamav2'];

export function toCatalogFamily(input: CatalogFamilyInput, source: string): CatalogFamily {
  const backends: {
    ollama?: OllamaEntry;
    llama_cpp?: LlamaCppEntry;
    vllm?: VllmEntry;
    exllamav2?: ExllamaEntry;
  } = {};
  const raw = input.backends;
  if (raw.ollama) backends.ollama = { tag: raw.ollama.tag };
  if (raw.llama_cpp) {
    const entry = raw.llama_cpp;
    backends.llama_cpp = {
      ...(entry.repo === undefined ? {} : { repo: entry.repo }),
      filename: entry.filename,
      url: entry.url,
      ...(entry.size_bytes === null ? {} : { sizeBytes: entry.size_bytes }),
      ...(entry.sha256 === null ? {} : { sha256: entry.sha256 }),
      ...(entry.quantization === undefined ? {} : { quantization: entry.quantization }),
    };
  }
  if (raw.vllm) {
    backends.vllm = {
      repo: raw.vllm.repo,
      servedName: raw.vllm.served_name,
      ...(raw.vllm.revision === undefined ? {} : { revision: raw.vllm.revision }),
    };
  }
  if (raw.exllamav2) {
    backends.exllamav2 = {
      repo: raw.exllamav2.repo,
      ...(raw.exllamav2.revision === undefined ? {} : { revision: raw.exllamav2.revision }),
    };
  }
  return {
    id: input.id,
    aliases: [...input.aliases],
    displayName: input.display_name,
    parametersB: input.parameters_b,
    contextLength: input.context_length,
    memoryGb: input.memory_gb,
    languages: [...input.languages],
    strengths: [...input.strengths],
    ...(input.license === undefined ? {} : { license: input.license }),
    backends,
    source,
  };
}
