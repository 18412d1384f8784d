import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { thrown } from '@nerion/test-support';
import {
  PACKAGED_CATALOG_PATH,
  findFamily,
  loadCatalog,
  parseCatalog,
  resolveFamily,
  resolveModelForBackend,
} from './index.js';

const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const family = (id: string, extra = ''): string => `  - id: ${id}
    display_name: ${id}
    parameters_b: 1
    context_length: 2048
    memory_gb: 1.5
    languages: [python]
    strengths: [edit]
    backends:
      ollama:
        tag: "${id}:1b"${extra}
`;

function writeUserCatalog(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'nerion-catalog-')), 'user.yaml');
  writeFileSync(path, text);
  return path;
}

describe('packaged catalog', () => {
  it('the packaged copy is identical to config/model_catalog.yaml (copy the file when this fails)', () => {
    expect(readFileSync(PACKAGED_CATALOG_PATH, 'utf8')).toBe(
      readFileSync(join(workspaceRoot, 'config', 'model_catalog.yaml'), 'utf8'),
    );
  });

  it('holds the four seed families, each with an instruct vLLM repo and a GGUF of known URL', () => {
    const catalog = loadCatalog();
    expect(catalog.families.map((entry) => entry.id)).toEqual([
      'deepseek-coder-v2',
      'qwen2.5-coder',
      'starcoder2',
      'codellama',
    ]);
    for (const entry of catalog.families) {
      expect(entry.backends.ollama?.tag).toMatch(/:/);
      expect(entry.backends.vllm?.repo).toMatch(/instruct/i);
      expect(entry.backends.llama_cpp?.url).toMatch(/^https:\/\/huggingface\.co\/.+\.gguf$/);
      expect(entry.backends.llama_cpp?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.memoryGb).toBeGreaterThan(0);
    }
    // starcoder2's exact size is unverified in the catalog: it stays undefined rather than guessed.
    expect(findFamily(catalog, 'starcoder2')?.backends.llama_cpp?.sizeBytes).toBeUndefined();
    expect(findFamily(catalog, 'deepseek-coder-v2')?.backends.exllamav2).toBeUndefined();
  });
});

describe('resolution', () => {
  const catalog = loadCatalog();

  it('resolves ids and aliases exactly (case-insensitive), never by substring', () => {
    expect(findFamily(catalog, 'qwen-coder')?.id).toBe('qwen2.5-coder');
    expect(findFamily(catalog, ' Qwen2.5-Coder ')?.id).toBe('qwen2.5-coder');
    expect(findFamily(catalog, 'deepseek-coder-v2:16b')?.id).toBe('deepseek-coder-v2');
    expect(findFamily(catalog, 'qwen')).toBeUndefined();
    expect(findFamily(catalog, 'coder')).toBeUndefined();
  });

  it('an unknown name is UNKNOWN_MODEL listing the known ones', () => {
    const error = thrown(() => resolveFamily(catalog, 'qwen'));
    expect(error.code).toBe('UNKNOWN_MODEL');
    for (const id of ['deepseek-coder-v2', 'qwen2.5-coder', 'starcoder2', 'codellama'])
      expect(error.message).toContain(id);
  });

  it('resolveModelForBackend maps a family to the backend name and passes anything else through', () => {
    expect(resolveModelForBackend(catalog, 'ollama', 'qwen2.5-coder').name).toBe('qwen2.5-coder:7b');
    expect(resolveModelForBackend(catalog, 'ollama', 'qwen2.5-coder:14b')).toEqual({
      requested: 'qwen2.5-coder:14b',
      name: 'qwen2.5-coder:14b',
      alternatives: [],
    });
    const vllm = resolveModelForBackend(catalog, 'vllm', 'codellama-7b-instruct');
    expect(vllm).toMatchObject({
      name: 'codellama',
      alternatives: ['codellama/CodeLlama-7b-Instruct-hf'],
      family: { id: 'codellama' },
    });
    expect(resolveModelForBackend(catalog, 'llama_cpp', 'starcoder2').name).toBe(
      'starcoder2-15b-instruct-v0.1-Q4_K_M.gguf',
    );
    const exl = resolveModelForBackend(catalog, 'exllamav2', 'codellama');
    expect(exl.entry).toBeUndefined();
    expect(exl.missingEntry).toContain('qwen2.5-coder');
  });
});

describe('user catalog (NERION_MODEL_CATALOG)', () => {
  it('adds new families and replaces families with a known id', () => {
    const path = writeUserCatalog(`version: 1\nfamilies:\n${family('tiny-coder')}${family('codellama')}`);
    const catalog = loadCatalog({ catalogPath: path });
    expect(catalog.families.map((entry) => entry.id)).toEqual([
      'deepseek-coder-v2',
      'qwen2.5-coder',
      'starcoder2',
      'codellama',
      'tiny-coder',
    ]);
    expect(findFamily(catalog, 'codellama')).toMatchObject({
      source: path,
      backends: { ollama: { tag: 'codellama:1b' } },
    });
    // The replaced family's old aliases are gone with it.
    expect(findFamily(catalog, 'code-llama')).toBeUndefined();
    expect(catalog.sources).toEqual([PACKAGED_CATALOG_PATH, path]);
  });

  it('a user alias that names another family is an error with file and line', () => {
    const path = writeUserCatalog(`version: 1\nfamilies:\n${family('tiny-coder')}    aliases: [tiny, qwen-coder]\n`);
    const error = thrown(() => loadCatalog({ catalogPath: path }));
    expect(error.code).toBe('CATALOG_INVALID');
    expect(error.message).toContain(`${path}:13:`);
    expect(error.message).toContain('aliases[1]');
    expect(error.message).toContain('qwen2.5-coder');
  });

  it('a missing file names the file', () => {
    const error = thrown(() => loadCatalog({ catalogPath: '/nonexistent/catalog.yaml' }));
    expect(error).toMatchObject({ code: 'CATALOG_INVALID', data: { file: '/nonexistent/catalog.yaml' } });
  });
});

describe('validation errors name the file, the line and the field', () => {
  const cases: Array<[string, string, number, string]> = [
    [
      'a bad sha256',
      `version: 1\nfamilies:\n${family('x')}      llama_cpp:\n        filename: x.gguf\n        url: http://127.0.0.1/x.gguf\n        size_bytes: 10\n        sha256: abc\n`,
      17,
      'families[0] (x).backends.llama_cpp.sha256',
    ],
    [
      'a missing field',
      `version: 1\nfamilies:\n  - id: x\n    display_name: X\n    parameters_b: 1\n    context_length: 2\n    languages: []\n    strengths: []\n    backends: {}\n`,
      3,
      'families[0] (x).memory_gb is required',
    ],
    [
      'a misspelt field',
      `version: 1\nfamilies:\n${family('x')}    sha265: nope\n`,
      13,
      'families[0] (x).sha265 is not a known field',
    ],
    [
      'an unknown strength',
      `version: 1\nfamilies:\n${family('x').replace('[edit]', '[edit, golf]')}`,
      9,
      'families[0] (x).strengths[1]',
    ],
    ['a wrong version', `version: 2\nfamilies: []\n`, 1, 'version must be 1'],
    [
      'a GGUF file name with a folder',
      `version: 1\nfamilies:\n${family('x')}      llama_cpp:\n        filename: ../x.gguf\n        url: http://127.0.0.1/x.gguf\n        size_bytes: null\n        sha256: null\n`,
      14,
      'llama_cpp.filename',
    ],
  ];
  it.each(cases)('%s', (_name, text, line, field) => {
    const error = thrown(() => parseCatalog(text, '/tmp/user.yaml'));
    expect(error.code).toBe('CATALOG_INVALID');
    expect(error.message).toContain(`/tmp/user.yaml:${line}:`);
    expect(error.message).toContain(field);
    expect(error.data).toMatchObject({ file: '/tmp/user.yaml', line });
  });

  it('malformed YAML and an empty file are errors too, never an empty catalog', () => {
    expect(thrown(() => parseCatalog('version: 1\nfamilies: [\n', 'a.yaml')).message).toMatch(/^a\.yaml:\d+:/);
    expect(thrown(() => parseCatalog('', 'b.yaml')).message).toContain('b.yaml:1: the catalog is empty');
    expect(
      thrown(() => parseCatalog(`version: 1\nfamilies:\n${family('x')}${family('x')}`, 'c.yaml')).message,
    ).toContain('appears twice');
  });
});
