import { createHash, randomBytes } from 'node:crypto';

/** What a download test serves as a model file: bytes that start like a GGUF, and their sha256 (hex). */
export interface FakeGguf {
  bytes: Buffer;
  sha256: string;
}

/**
 * The GGUF magic (`GGUF`), then the format version as a little-endian uint32 when `version` is given, then
 * `noiseBytes` random bytes: enough for the download path's checks (magic, size, sha256), not a loadable model.
 */
export function fakeGguf(noiseBytes: number, options: { version?: number } = {}): FakeGguf {
  const header = [Buffer.from('GGUF')];
  if (options.version !== undefined) {
    const version = Buffer.alloc(4);
    version.writeUInt32LE(options.version);
    header.push(version);
  }
  const bytes = Buffer.concat([...header, randomBytes(noiseBytes)]);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}
