/**
 * The bench-figures file: `<cacheDir>/bench/last.json`, written after each `nerion models bench` run and
 * read by auto-selection (NERION_CODER_AUTO=1) to favour what measured fastest. This package owns its
 * path, its shape (a valibot schema) and both sides: writing (merged, atomic) and reading (tolerant).
 *
 *   { "updatedAt": "2026-…Z", "figures": [{ "backend": "ollama", "model": "…", "latencySeconds": 0.42 }] }
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import writeFileAtomic from 'write-file-atomic';
import { describeError } from '@nerion/backend-core';

/** What the last bench runs measured for a backend/model: latency, plan quality, or both. */
export interface BenchFigure {
  backend: string;
  model: string;
  /** Median seconds per request (`nerion models bench`). */
  latencySeconds?: number;
  /** Plan quality (`nerion models bench --task plan`): shares (0..1) of valid and of right plans over `cases`. */
  plan?: { valid: number; right: number; cases: number };
}

const share = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const BenchFigureSchema = v.pipe(
  v.object({
    backend: v.pipe(v.string(), v.minLength(1)),
    model: v.string(),
    latencySeconds: v.optional(v.pipe(v.number(), v.finite(), v.gtValue(0))),
    plan: v.optional(v.object({ valid: share, right: share, cases: v.pipe(v.number(), v.integer(), v.minValue(0)) })),
  }),
  v.check((figure) => figure.latencySeconds !== undefined || figure.plan !== undefined, 'a figure needs a value'),
);

/** The file: any `figures` list; entries that do not match BenchFigureSchema are skipped one by one. */
const BenchFiguresFileSchema = v.object({ figures: v.array(v.unknown()) });

/** Where `nerion models bench` leaves its last figures. */
export function benchFiguresPath(cacheDir: string): string {
  return join(cacheDir, 'bench', 'last.json');
}

/**
 * The figures of earlier runs; [] when there is no file. A file that is not JSON or has no `figures` list
 * is ignored with one warning naming the fix; a malformed entry is skipped.
 */
export function readBenchFigures(cacheDir: string, warn: (message: string) => void = () => undefined): BenchFigure[] {
  const path = benchFiguresPath(cacheDir);
  if (!existsSync(path)) return [];
  try {
    const parsed = v.safeParse(BenchFiguresFileSchema, JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error('no "figures" list');
    return parsed.output.figures.flatMap((figure) => {
      const entry = v.safeParse(BenchFigureSchema, figure);
      return entry.success ? [entry.output] : [];
    });
  } catch (error) {
    warn(
      `ignoring the bench figures in ${path} (${describeError(error)}); run \`nerion models bench\` again to refresh them`,
    );
    return [];
  }
}

/**
 * Keeps the latest figures per backend/model (merged with earlier figures) and writes the file
 * atomically (write-file-atomic: temp file, fsync, rename), so a reader never sees half a file.
 */
export function writeBenchFigures(
  cacheDir: string,
  figures: readonly BenchFigure[],
  warn: (message: string) => void = () => undefined,
): void {
  if (figures.length === 0) return;
  const key = (figure: BenchFigure) => `${figure.backend}\u0000${figure.model}`;
  const merged = new Map(readBenchFigures(cacheDir, warn).map((figure) => [key(figure), figure]));
  // A latency run keeps the plan figures of the same backend/model, and a plan run keeps its latency.
  for (const figure of figures) merged.set(key(figure), { ...merged.get(key(figure)), ...figure });
  const path = benchFiguresPath(cacheDir);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic.sync(
    path,
    `${JSON.stringify({ updatedAt: new Date().toISOString(), figures: [...merged.values()] }, null, 2)}\n`,
  );
}
