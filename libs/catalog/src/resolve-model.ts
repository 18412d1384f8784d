/**
 * Name resolution. Exact only: a family id or one of its aliases (trimmed, case-insensitive), never a
 * substring or a "closest" guess. Anything else is not a catalog model (its error suggests the nearest names).
 */
import { NerionError } from '@nerion/backend-core';
import type { Catalog, CatalogBackends, CatalogFamily, CatalogBackendId } from './catalog-schema.js';
import { suggestModelNames } from './suggest-names.js';

interface CatalogIndex {
  /** The families array the index was built from (a catalog built by hand may be replaced or grown). */
  readonly families: readonly CatalogFamily[];
  readonly length: number;
  /** Lower-case id or alias → the first family (in catalog order) with that name. */
  readonly byName: ReadonlyMap<string, CatalogFamily>;
  /** Backend → the ids of the families that have a build for it, in catalog order. */
  readonly withBuild: Map<CatalogBackendId, readonly string[]>;
}

// Built once per catalog (loaded catalogs are frozen), so a lookup costs the same for 4 families or 8,000:
// `models list` resolves every family on every backend, which was quadratic with a linear search.
const indexes = new WeakMap<Catalog, CatalogIndex>();

function indexOf(catalog: Catalog): CatalogIndex {
  const cached = indexes.get(catalog);
  if (cached && cached.families === catalog.families && cached.length === catalog.families.length) return cached;
  const byName = new Map<string, CatalogFamily>();
  for (const family of catalog.families) {
    for (const name of [family.id, ...family.aliases]) {
      const key = name.toLowerCase();
      if (!byName.has(key)) byName.set(key, family);
    }
  }
  const index: CatalogIndex = {
    families: catalog.families,
    length: catalog.families.length,
    byName,
    withBuild: new Map(),
  };
  indexes.set(catalog, index);
  return index;
}

/** The family whose id or alias is exactly `name`, or undefined. */
export function findFamily(catalog: Catalog, name: string): CatalogFamily | undefined {
  const key = name.trim().toLowerCase();
  if (key === '') return undefined;
  return indexOf(catalog).byName.get(key);
}

/** Like findFamily, but an unknown name is an UNKNOWN_MODEL error naming the nearest known names. */
export function resolveFamily(
  catalog: Catalog,
  name: string,
  options: { retry?: (suggestion: string) => readonly string[] } = {},
): CatalogFamily {
  const family = findFamily(catalog, name);
  if (family) return family;
  throw unknownModelError(catalog, name, options);
}

/**
 * The error for a model name the catalog does not know, everywhere a command resolves one: the nearest
 * catalog names (`data.suggestions`), and as `fix` the command to run with the best of them (`retry`
 * builds it; default `nerion models list`).
 */
export function unknownModelError(
  catalog: Catalog,
  name: string,
  options: { retry?: (suggestion: string) => readonly string[]; context?: string } = {},
): NerionError {
  const suggestions = suggestModelNames(catalog, name);
  const best = suggestions[0];
  const command = best !== undefined && options.retry ? options.retry(best) : ['nerion', 'models', 'list'];
  const didYouMean =
    suggestions.length > 0 ? ` Did you mean ${suggestions.map((entry) => `"${entry}"`).join(' or ')}?` : '';
  return new NerionError(
    'UNKNOWN_MODEL',
    `"${name}" is not in the model catalog${options.context ?? ''}.${didYouMean} Known models: ${describeKnownNames(catalog)}. Run \`nerion models list\` for details.`,
    {
      data: { model: name, suggestions, known: catalog.families.map((entry) => entry.id) },
      fix: { command },
    },
  );
}

/** `deepseek-coder-v2 (aliases: …), qwen2.5-coder (…)` — for error messages. */
export function describeKnownNames(catalog: Catalog): string {
  // A large user catalog would make this message as long as the catalog: name the first 20, count the rest.
  const shown = catalog.families
    .slice(0, 20)
    .map((family) => (family.aliases.length > 0 ? `${family.id} (aliases: ${family.aliases.join(', ')})` : family.id))
    .join('; ');
  const more = catalog.families.length - 20;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

export interface BackendModelResolution<B extends CatalogBackendId = CatalogBackendId> {
  /** What was asked for, unchanged. */
  readonly requested: string;
  /** The catalog family when `requested` is one of its names. */
  readonly family?: CatalogFamily;
  /** The family's entry for this backend; undefined for pass-through names or when the family has no build for it. */
  readonly entry?: NonNullable<CatalogBackends[B]>;
  /**
   * The name to use with the backend: the Ollama tag, the vLLM served name, the exllamav2 repo, the GGUF
   * file name (a label for llama_cpp). A name that is not in the catalog passes through unchanged, and so
   * does a family name whose family has no entry for this backend.
   */
  readonly name: string;
  /** Other names the backend may know the same model by (vLLM: the repo, which vLLM serves when no served name is set). */
  readonly alternatives: readonly string[];
  /** A sentence when the family has no entry for this backend (e.g. no EXL2 build exists). */
  readonly missingEntry?: string;
}

/**
 * The rule every backend wiring uses: an exact family id or alias maps to that family's entry for
 * `backendId`; anything else (an explicit Ollama tag such as `qwen2.5-coder:14b`, a custom model)
 * passes through unchanged.
 */
export function resolveModelForBackend<B extends CatalogBackendId>(
  catalog: Catalog,
  backendId: B,
  name: string,
): BackendModelResolution<B> {
  const requested = name;
  const family = findFamily(catalog, name);
  if (!family) return { requested, name: name.trim(), alternatives: [] };
  const entry = family.backends[backendId] as NonNullable<CatalogBackends[B]> | undefined;
  if (!entry) {
    return {
      requested,
      family,
      name: family.id,
      alternatives: [],
      missingEntry: `The catalog has no ${backendId} build of ${family.id}${alternativesFor(catalog, backendId, family)}.`,
    };
  }
  switch (backendId) {
    case 'ollama':
      return {
        requested,
        family,
        entry,
        name: (entry as NonNullable<CatalogBackends['ollama']>).tag,
        alternatives: [],
      };
    case 'llama_cpp':
      return {
        requested,
        family,
        entry,
        name: (entry as NonNullable<CatalogBackends['llama_cpp']>).filename,
        alternatives: [],
      };
    case 'vllm': {
      const vllm = entry as NonNullable<CatalogBackends['vllm']>;
      return { requested, family, entry, name: vllm.servedName, alternatives: [vllm.repo] };
    }
    default:
      return {
        requested,
        family,
        entry,
        name: (entry as NonNullable<CatalogBackends['exllamav2']>).repo,
        alternatives: [],
      };
  }
}

/** At most this many families are named in a "families that have one" hint; the rest are counted. */
const MAX_ALTERNATIVES_NAMED = 10;

function alternativesFor(catalog: Catalog, backendId: CatalogBackendId, except: CatalogFamily): string {
  const index = indexOf(catalog);
  let withBuild = index.withBuild.get(backendId);
  if (withBuild === undefined) {
    withBuild = catalog.families.filter((family) => family.backends[backendId]).map((family) => family.id);
    index.withBuild.set(backendId, withBuild);
  }
  // `except` has no build for this backend (that is why it is asked), so it is never in the list.
  const named: string[] = [];
  for (const id of withBuild) {
    if (named.length === MAX_ALTERNATIVES_NAMED) break;
    if (id !== except.id) named.push(id);
  }
  if (named.length === 0) return '';
  const more = withBuild.length - named.length;
  return `; families that have one: ${named.join(', ')}${more > 0 ? ` and ${more} more (\`nerion models list\`)` : ''}`;
}
