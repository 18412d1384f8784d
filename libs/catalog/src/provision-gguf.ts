/**
 * Provisioning a GGUF for llama_cpp: decide where it comes from (the catalog, or LLAMA_CPP_MODEL_URL), ask
 * for consent only when a download is needed, download it verified, and record it in provisioned.json.
 */
import { rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { NerionError, formatBytes } from '@nerion/backend-core';
import type { CatalogFamily } from './catalog-schema.js';
import {
  downloadFile,
  partPathOf,
  readHead,
  sha256OfFile,
  type DownloadFetch,
  type DownloadProgress,
  type StatfsFunction,
} from './download-file.js';
import { withDestinationLock } from './download-lock.js';
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
  /** Re-hash a file already present even when its record matches (`ensure --verify`). */
  verify?: boolean;
  /** Download again even when the file is present (`ensure --force`); needs consent like any download. */
  force?: boolean;
  /** Told once when another process is downloading the same file and this one waits for it. */
  onWait?: (message: string) => void;
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

/** Every GGUF file starts with these four bytes. */
export const GGUF_MAGIC: Uint8Array = Buffer.from('GGUF', 'latin1');

export async function provisionGguf(options: ProvisionGgufOptions): Promise<ProvisionGgufResult> {
  const source = ggufSourceFor(options.family, { modelUrl: options.modelUrl, modelSha256: options.modelSha256 });
  const destination = options.destination ?? defaultGgufPath(options.cacheDir, source.filename);
  // Before any lock, prompt or byte: the destination must be a file path (or nothing yet).
  await refuseNonFile(destination, options.destination !== undefined);
  return withDestinationLock(
    destination,
    { ...(options.onWait ? { onWait: options.onWait } : {}), ...(options.signal ? { signal: options.signal } : {}) },
    async (lockLost) => {
      const signal = options.signal ? AbortSignal.any([options.signal, lockLost]) : lockLost;
      try {
        return await provisionLocked({ ...options, signal }, source, destination);
      } catch (error) {
        if (lockLost.aborted) throw lockLost.reason;
        throw error;
      }
    },
  );
}

async function provisionLocked(
  options: ProvisionGgufOptions,
  source: GgufSource,
  destination: string,
): Promise<ProvisionGgufResult> {
  const familyId = options.family?.id;
  if (options.force === true) {
    // Download again from scratch: an old part file is not resumed; the present file stays until the new one is verified.
    await rm(partPathOf(destination), { force: true });
  } else {
    const present = await checkPresent(options, source, destination);
    if (present) return present;
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
    locked: true,
    expectedMagic: GGUF_MAGIC,
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

/**
 * The file already at `destination`, checked (never trusted from the record alone): it must be a GGUF
 * (magic), of the recorded and expected size; it is re-hashed when it is not recorded, when the expected
 * sha256 differs from the recorded one, when its size changed, or with `verify`. Undefined when absent.
 */
async function checkPresent(
  options: ProvisionGgufOptions,
  source: GgufSource,
  destination: string,
): Promise<ProvisionGgufResult | undefined> {
  let size: number;
  try {
    size = (await stat(destination)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const again = `run \`nerion models ensure --backend llama_cpp${options.family ? ` --model ${options.family.id}` : ''} --force\` to download it again`;
  const fix = {
    command: [
      'nerion',
      'models',
      'ensure',
      '--backend',
      'llama_cpp',
      ...(options.family ? ['--model', options.family.id] : []),
      '--force',
    ],
  };
  const head = await readHead(destination, GGUF_MAGIC.length);
  if (!Buffer.from(GGUF_MAGIC).equals(head)) {
    throw new NerionError(
      'MODEL_LOAD_FAILED',
      `${destination} exists but is not a GGUF file (it starts with ${JSON.stringify(head.toString('latin1'))}). Delete it, or ${again}${options.destination === undefined ? '' : ', or point LLAMA_CPP_MODEL_PATH at a GGUF file'}.`,
      {
        fix: { ...fix, ...(options.destination === undefined ? {} : { settings: ['LLAMA_CPP_MODEL_PATH'] }) },
        data: { path: destination },
      },
    );
  }
  if (source.sizeBytes !== undefined && size !== source.sizeBytes) {
    throw new NerionError(
      'CHECKSUM_MISMATCH',
      `${destination} is ${size} bytes, but ${source.sizeBytes} were expected (truncated or another build). ${capitalise(again)}.`,
      { fix, data: { path: destination, expectedBytes: source.sizeBytes, actualBytes: size } },
    );
  }
  const recorded = findProvisioned(options.cacheDir, 'llama_cpp').find(
    (record) => record.path === destination && record.url === source.url,
  );
  const trustRecord =
    recorded !== undefined &&
    options.verify !== true &&
    recorded.sha256 !== undefined &&
    recorded.sizeBytes === size &&
    (source.sha256 === undefined || recorded.sha256 === source.sha256);
  if (trustRecord) {
    const verified = recorded.verified === true && source.sha256 !== undefined;
    return { status: 'present', path: destination, source, verified, sha256: recorded.sha256, record: recorded };
  }
  const sha256 = await sha256OfFile(destination);
  if (source.sha256 !== undefined && sha256 !== source.sha256) {
    throw new NerionError(
      'CHECKSUM_MISMATCH',
      `${destination} exists but its sha256 is ${sha256}, not the expected ${source.sha256}. ${capitalise(again)}, or delete it.`,
      { fix, data: { path: destination, expected: source.sha256, actual: sha256 } },
    );
  }
  const familyId = options.family?.id;
  const record = recordProvisioned(options.cacheDir, {
    backend: 'llama_cpp',
    name: source.filename,
    path: destination,
    url: source.url,
    sha256,
    verified: source.sha256 !== undefined,
    sizeBytes: size,
    ...(familyId === undefined ? {} : { family: familyId }),
  });
  return { status: 'present', path: destination, source, verified: source.sha256 !== undefined, sha256, record };
}

/** The destination must be a regular file or not exist: a directory (or device, FIFO…) is refused up front. */
async function refuseNonFile(destination: string, fromSetting: boolean): Promise<void> {
  let stats;
  try {
    stats = await stat(destination);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') {
      throw new NerionError(
        'CONFIG_INVALID',
        `${destination} cannot be created: a part of its path is a file, not a folder. ${fromSetting ? 'Set LLAMA_CPP_MODEL_PATH to a file path such as /models/model.gguf' : 'Point NERION_CACHE_DIR at a folder'}. Nothing was downloaded.`,
        { fix: { settings: [fromSetting ? 'LLAMA_CPP_MODEL_PATH' : 'NERION_CACHE_DIR'] }, data: { path: destination } },
      );
    }
    throw error;
  }
  if (stats.isFile()) return;
  const what = stats.isDirectory() ? 'a directory' : 'not a regular file';
  throw new NerionError(
    'CONFIG_INVALID',
    `${fromSetting ? `LLAMA_CPP_MODEL_PATH=${destination}` : destination} is ${what}; the GGUF must go to a file path${fromSetting ? `, such as ${join(destination, 'model.gguf')}` : ''}. Nothing was downloaded.`,
    { ...(fromSetting ? { fix: { settings: ['LLAMA_CPP_MODEL_PATH'] } } : {}), data: { path: destination } },
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
