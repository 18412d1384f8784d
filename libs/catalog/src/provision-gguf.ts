/**
 * Provisioning a GGUF for llama_cpp: decide where it comes from (the catalog, or LLAMA_CPP_MODEL_URL), ask
 * for consent only when a download is needed, download it verified, and record it in provisioned.json.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { NerionError, formatBytes } from '@nerion/backend-core';
import type { CatalogFamily } from './catalog-schema.js';
import {
  downloadFile,
  sha256OfFile,
  type DownloadFetch,
  type DownloadProgress,
  type StatfsFunction,
} from './download-file.js';
import { defaultGgufPath, findProvisioned, recordProvisioned, type ProvisionedRecord } from './provisioned.js';

export interface GgufSource {
  readonly url: string;
  readonly filename: string;
  /** The checksum that applies to `url`: the catalog's for the catalog's URL, LLAMA_CPP_MODEL_SHA256 for an override. */
  readonly sha256?: string;
  readonly sizeBytes?: number;
  readonly origin: 'catalog' | 'override';
}

/**
 * Where a family's GGUF comes from. `modelUrl` (LLAMA_CPP_MODEL_URL) overrides the catalog's URL, and then
 * the catalog's sha256 and size do NOT apply: only `modelSha256` (LLAMA_CPP_MODEL_SHA256) does, else the
 * download is unverified.
 */
export function ggufSourceFor(
  family: CatalogFamily | undefined,
  overrides: { modelUrl?: string; modelSha256?: string } = {},
): GgufSource {
  if (overrides.modelUrl !== undefined) {
    const fromUrl = decodeURIComponent(basename(new URL(overrides.modelUrl).pathname));
    const filename = /^[^/\\]+\.gguf$/i.test(fromUrl) ? fromUrl : `${family?.id ?? 'model'}.gguf`;
    return {
      url: overrides.modelUrl,
      filename,
      origin: 'override',
      ...(overrides.modelSha256 === undefined ? {} : { sha256: overrides.modelSha256.toLowerCase() }),
    };
  }
  const entry = family?.backends.llama_cpp;
  if (!family) {
    throw new NerionError(
      'UNKNOWN_MODEL',
      'No catalog model was named and LLAMA_CPP_MODEL_URL is not set, so there is nothing to download. Name a catalog model or set LLAMA_CPP_MODEL_URL.',
      { fix: { settings: ['LLAMA_CPP_MODEL_URL'] } },
    );
  }
  if (!entry) {
    throw new NerionError(
      'NOT_AVAILABLE',
      `The catalog has no GGUF build of ${family.id}. Set LLAMA_CPP_MODEL_URL to a GGUF of it, or choose another model (\`nerion models list\`).`,
      {
        fix: { settings: ['LLAMA_CPP_MODEL_URL'], command: ['nerion', 'models', 'list'] },
        data: { family: family.id },
      },
    );
  }
  return {
    url: entry.url,
    filename: entry.filename,
    origin: 'catalog',
    ...(entry.sha256 === undefined ? {} : { sha256: entry.sha256 }),
    ...(entry.sizeBytes === undefined ? {} : { sizeBytes: entry.sizeBytes }),
  };
}

/** Asked only when bytes must be fetched; resolves true to allow the download. */
export type ConsentFunction = (request: {
  url: string;
  destination: string;
  sizeBytes?: number;
}) => boolean | Promise<boolean>;

export interface ProvisionGgufOptions {
  family?: CatalogFamily;
  cacheDir: string;
  /** LLAMA_CPP_MODEL_URL */
  modelUrl?: string;
  /** LLAMA_CPP_MODEL_SHA256 (applies to modelUrl only) */
  modelSha256?: string;
  /** Where to put the file; default `<cacheDir>/models/llama.cpp/<filename>`. */
  destination?: string;
  /** Network consent: a fixed answer (NERION_ALLOW_NETWORK / --yes) or a prompt. Without it nothing is fetched. */
  consent: boolean | ConsentFunction;
  fetch?: DownloadFetch;
  dispatcher?: unknown;
  statfs?: StatfsFunction;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface ProvisionGgufResult {
  /** `present`: already there (nothing fetched); `downloaded`: fetched now. */
  readonly status: 'present' | 'downloaded';
  readonly path: string;
  readonly source: GgufSource;
  /** True when the file's sha256 was checked against an expected value. */
  readonly verified: boolean;
  readonly sha256?: string;
  readonly resumedFromBytes?: number;
  readonly record: ProvisionedRecord;
}

export async function provisionGguf(options: ProvisionGgufOptions): Promise<ProvisionGgufResult> {
  const source = ggufSourceFor(options.family, { modelUrl: options.modelUrl, modelSha256: options.modelSha256 });
  const destination = options.destination ?? defaultGgufPath(options.cacheDir, source.filename);
  const familyId = options.family?.id;

  const recorded = findProvisioned(options.cacheDir, 'llama_cpp').find(
    (record) => record.path === destination && record.url === source.url,
  );
  if (recorded)
    return {
      status: 'present',
      path: destination,
      source,
      verified: recorded.verified === true,
      sha256: recorded.sha256,
      record: recorded,
    };

  if (await isFile(destination)) {
    // Found at the default path but not recorded (copied in by hand, or recorded by another cache): check and adopt it.
    const sha256 = await sha256OfFile(destination);
    if (source.sha256 !== undefined && sha256 !== source.sha256) {
      throw new NerionError(
        'CHECKSUM_MISMATCH',
        `${destination} exists but its sha256 is ${sha256}, not the expected ${source.sha256}. Delete it and run \`nerion models ensure\` again.`,
        {
          fix: { command: ['nerion', 'models', 'ensure'] },
          data: { path: destination, expected: source.sha256, actual: sha256 },
        },
      );
    }
    const record = recordProvisioned(options.cacheDir, {
      backend: 'llama_cpp',
      name: source.filename,
      path: destination,
      url: source.url,
      sha256,
      verified: source.sha256 !== undefined,
      sizeBytes: (await stat(destination)).size,
      ...(familyId === undefined ? {} : { family: familyId }),
    });
    return { status: 'present', path: destination, source, verified: source.sha256 !== undefined, sha256, record };
  }

  const consented =
    typeof options.consent === 'function'
      ? await options.consent({ url: source.url, destination, sizeBytes: source.sizeBytes })
      : options.consent;
  if (!consented) {
    const size = source.sizeBytes === undefined ? '' : ` (${formatBytes(source.sizeBytes)})`;
    throw new NerionError(
      'CONSENT_REQUIRED',
      `Downloading ${source.url}${size} to ${destination} needs your consent. Set NERION_ALLOW_NETWORK=1, pass --yes, or answer y at the prompt on a terminal. Nothing was downloaded.`,
      { fix: { settings: ['NERION_ALLOW_NETWORK'] }, data: { url: source.url, destination } },
    );
  }

  const result = await downloadFile({
    url: source.url,
    destination,
    ...(source.sha256 === undefined ? {} : { expectedSha256: source.sha256 }),
    ...(source.sizeBytes === undefined ? {} : { expectedSizeBytes: source.sizeBytes }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    ...(options.statfs === undefined ? {} : { statfs: options.statfs }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const record = recordProvisioned(options.cacheDir, {
    backend: 'llama_cpp',
    name: source.filename,
    path: result.path,
    url: source.url,
    sha256: result.sha256,
    verified: result.verified,
    sizeBytes: result.bytes,
    ...(familyId === undefined ? {} : { family: familyId }),
  });
  return {
    status: 'downloaded',
    path: result.path,
    source,
    verified: result.verified,
    sha256: result.sha256,
    resumedFromBytes: result.resumedFromBytes,
    record,
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
