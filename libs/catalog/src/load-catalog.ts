/**
 * Loading the catalog: the packaged YAML, optionally extended or overridden by a user catalog.
 * Every problem is a CATALOG_INVALID error naming the file, the line and the field — never a silent `{}`.
 */
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { LineCounter, isMap, isNode, isSeq, parseDocument, type Document } from 'yaml';
import { NerionError, readBoundedFileSync } from '@nerion/backend-core';
import { CatalogFileSchema, toCatalogFamily, type Catalog, type CatalogFamily } from './catalog-schema.js';

/**
 * The catalog shipped with the package. `libs/catalog/model_catalog.yaml` is a copy of the workspace's
 * `config/model_catalog.yaml` (a test keeps them identical) and is listed in the package's `files`, so the
 * same relative path works from `src/` (tests) and from `dist/` (the published package).
 */
/** YAML alias expansions allowed in a catalog (the yaml package's guard against alias bombs). */
const MAX_YAML_ALIAS_COUNT = 100;

export const PACKAGED_CATALOG_PATH: string = fileURLToPath(new URL('../model_catalog.yaml', import.meta.url));

export interface LoadCatalogOptions {
  /** A user catalog (NERION_MODEL_CATALOG) whose families extend the packaged ones or replace them by `id`. */
  catalogPath?: string;
  /** Where the packaged catalog is; tests may point elsewhere. Default PACKAGED_CATALOG_PATH. */
  packagedPath?: string;
}

interface ParsedFile {
  file: string;
  document: Document;
  lineCounter: LineCounter;
  families: CatalogFamily[];
}

/** The largest catalog file read (the packaged one is ~7 KB; 16 MB holds several thousand families). */
export const CATALOG_FILE_MAX_BYTES = 16_000_000;

/** Reads and validates the packaged catalog, then the user's (when given), and merges them. */
export function loadCatalog(options: LoadCatalogOptions = {}): Catalog {
  const packaged = parseCatalogFile(options.packagedPath ?? PACKAGED_CATALOG_PATH);
  const parsed = [packaged];
  if (options.catalogPath !== undefined) parsed.push(parseCatalogFile(options.catalogPath));
  return mergeCatalogs(parsed);
}

/** Parses catalog text (the file name is used in messages only). */
export function parseCatalog(text: string, file: string): Catalog {
  return mergeCatalogs([parseCatalogText(text, file)]);
}

function parseCatalogFile(file: string): ParsedFile {
  // Only a regular file, bounded: a FIFO at the path would hang the read, a huge file would fill memory.
  const read = readBoundedFileSync(file, CATALOG_FILE_MAX_BYTES);
  if (read === undefined)
    throw new NerionError(
      'CATALOG_INVALID',
      `The model catalog ${file} does not exist. Fix NERION_MODEL_CATALOG or create the file (format: docs/catalog.md).`,
      { fix: { settings: ['NERION_MODEL_CATALOG'] }, data: { file } },
    );
  if ('problem' in read)
    throw new NerionError(
      'CATALOG_INVALID',
      `The model catalog ${file} ${read.problem} — point NERION_MODEL_CATALOG at a catalog YAML file (format: docs/catalog.md).`,
      {
        fix: { settings: ['NERION_MODEL_CATALOG'] },
        ...(read.cause === undefined ? {} : { cause: read.cause }),
        data: { file },
      },
    );
  return parseCatalogText(read.text, file);
}

function parseCatalogText(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new NerionError(
      'CATALOG_INVALID',
      `${file}:${line}: ${first.message.split('\n')[0]} (the catalog is not valid YAML).`,
      {
        data: { file, line },
      },
    );
  }
  let value: unknown;
  try {
    // At most 100 alias expansions: a "billion laughs" document must not exhaust memory.
    value = document.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (error) {
    throw new NerionError(
      'CATALOG_INVALID',
      `${file}: the catalog could not be read as data (${(error as Error).message}); it uses too many YAML aliases (*name) — write the values out instead.`,
      { cause: error, data: { file } },
    );
  }
  if (value === null || value === undefined) {
    throw new NerionError(
      'CATALOG_INVALID',
      `${file}:1: the catalog is empty; it needs \`version: 1\` and a \`families:\` list (see docs/catalog.md).`,
      {
        data: { file, line: 1 },
      },
    );
  }
  const result = v.safeParse(CatalogFileSchema, value, { abortPipeEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    const keys = (issue.path ?? []).map((item) => item.key as string | number);
    const line = lineOf(document, lineCounter, keys);
    const field = describePath(keys, value);
    const unknownKey = issue.kind === 'schema' && issue.type === 'strict_object' && issue.expected === 'never';
    const detail = unknownKey
      ? 'is not a known field (check its spelling; the format is in docs/catalog.md)'
      : issue.received === 'undefined'
        ? 'is required but missing'
        : `${issue.message.replace(/^Invalid \w+: /, '')} (got ${issue.received})`;
    throw new NerionError('CATALOG_INVALID', `${file}:${line}: ${field || 'the document'} ${detail}.`, {
      data: { file, line, field, issues: result.issues.length },
    });
  }
  const families = result.output.families.map((family) => toCatalogFamily(family, file));
  return { file, document, lineCounter, families };
}

/** Keys of names already taken → the family that took them. Throws on a second use. */
function checkUnique(parsed: ParsedFile, earlier: readonly CatalogFamily[], taken: Map<string, CatalogFamily>): void {
  for (const family of earlier) for (const key of namesOf(family)) taken.set(key, family);
  const ids = new Set<string>();
  parsed.families.forEach((family, index) => {
    if (ids.has(family.id)) {
      const line = lineOf(parsed.document, parsed.lineCounter, ['families', index, 'id']);
      throw new NerionError(
        'CATALOG_INVALID',
        `${parsed.file}:${line}: families[${index}].id "${family.id}" appears twice in this file; give each family one entry.`,
        {
          data: { file: parsed.file, line, field: `families[${index}].id` },
        },
      );
    }
    ids.add(family.id);
  });
  parsed.families.forEach((family, index) => {
    const names = [family.id, ...family.aliases];
    names.forEach((name, nameIndex) => {
      const key = name.toLowerCase();
      const owner = taken.get(key);
      if (owner && owner.id !== family.id) {
        const path = nameIndex === 0 ? ['families', index, 'id'] : ['families', index, 'aliases', nameIndex - 1];
        const line = lineOf(parsed.document, parsed.lineCounter, path);
        const field =
          nameIndex === 0
            ? `families[${index}] (${family.id}).id`
            : `families[${index}] (${family.id}).aliases[${nameIndex - 1}]`;
        throw new NerionError(
          'CATALOG_INVALID',
          `${parsed.file}:${line}: ${field} "${name}" is already a name of family "${owner.id}" (${owner.source}); names must be unique, so pick another.`,
          { data: { file: parsed.file, line, field } },
        );
      }
      taken.set(key, family);
    });
  });
}

function namesOf(family: CatalogFamily): string[] {
  return [family.id, ...family.aliases].map((name) => name.toLowerCase());
}

function mergeCatalogs(files: readonly ParsedFile[]): Catalog {
  let families: CatalogFamily[] = [];
  for (const parsed of files) {
    // A later file's family with a known id replaces the earlier one in place; a new id is appended.
    // Its names must not clash with the families it leaves in place.
    const incoming = new Map(parsed.families.map((family) => [family.id, family]));
    const kept = families.filter((family) => !incoming.has(family.id));
    checkUnique(parsed, kept, new Map());
    const existing = new Set(families.map((family) => family.id));
    families = [
      ...families.map((family) => incoming.get(family.id) ?? family),
      ...parsed.families.filter((family) => !existing.has(family.id)),
    ];
  }
  return deepFreeze({ families, sources: files.map((parsed) => parsed.file) });
}

/** The 1-based line of the deepest node on `keys` that exists (a missing field points at its parent). */
function lineOf(document: Document, lineCounter: LineCounter, keys: readonly (string | number)[]): number {
  for (let length = keys.length; length >= 0; length -= 1) {
    const node = length === 0 ? document.contents : document.getIn(keys.slice(0, length), true);
    if (isNode(node) && node.range) {
      // For a map or list, point at its first entry rather than the indentation before it.
      const start =
        (isMap(node) || isSeq(node)) && node.items.length > 0
          ? (firstOffset(node.items[0]) ?? node.range[0])
          : node.range[0];
      return lineCounter.linePos(start).line;
    }
  }
  return 1;
}

function firstOffset(item: unknown): number | undefined {
  if (isNode(item)) return item.range?.[0];
  const key = (item as { key?: unknown }).key;
  return isNode(key) ? key.range?.[0] : undefined;
}

/** `families[1] (qwen2.5-coder).backends.llama_cpp.sha256` */
function describePath(keys: readonly (string | number)[], root: unknown): string {
  let text = '';
  let current: unknown = root;
  for (const key of keys) {
    text += typeof key === 'number' ? `[${key}]` : text === '' ? key : `.${key}`;
    current =
      current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[key] : undefined;
    if (typeof key === 'number' && current !== null && typeof current === 'object') {
      const id = (current as Record<string, unknown>).id;
      if (typeof id === 'string') text += ` (${id})`;
    }
  }
  return text;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
