/**
 * Choosing the best catalog model for this machine: the families that have a build for the backend and
 * whose `memory_gb` fits in the machine's memory, ranked by capability (plan strength, then size).
 */
import { NerionError } from '@nerion/backend-core';
import type { Catalog, CatalogFamily, CatalogStrength, CatalogBackendId } from './catalog-schema.js';
import { DEFAULT_RESERVE_GB, memoryFit } from './memory-fit.js';

export interface MachineMemory {
  /** os.totalmem() */
  totalBytes: number;
  /** os.freemem() */
  freeBytes: number;
}

export interface SelectModelOptions {
  /** Only families with an entry for this backend. */
  backend?: CatalogBackendId;
  /** Prefer families strong at this task kind. Default `plan`. */
  task?: CatalogStrength;
  /** Memory kept for the OS and other programs. Default 2 GB. */
  reserveGb?: number;
}

export interface ModelSelection {
  readonly family: CatalogFamily;
  /** True when the family's memory_gb fits in free memory now (it always fits in total memory minus the reserve). */
  readonly fitsFreeMemory: boolean;
  /** Why it was chosen, as sentences for `--json` and stderr. */
  readonly reasons: readonly string[];
}

const GB = 1e9;

/**
 * Picks one family, deterministically. A family fits when memory_gb ≤ total memory − reserve; among the
 * fitting ones, those that also fit in free memory come first, then those strong at `task` (earlier in
 * `strengths` is better), then more parameters, then less memory. None fitting is a NOT_AVAILABLE error
 * naming the smallest family and its need.
 */
export function selectModelForMachine(
  catalog: Catalog,
  memory: MachineMemory,
  options: SelectModelOptions = {},
): ModelSelection {
  const reserve = options.reserveGb ?? DEFAULT_RESERVE_GB;
  const task = options.task ?? 'plan';
  const fit = (family: CatalogFamily) => memoryFit(family.memoryGb, memory, reserve);
  const freeGb = memory.freeBytes / GB;
  const candidates = catalog.families.filter(
    (family) => options.backend === undefined || family.backends[options.backend] !== undefined,
  );
  if (candidates.length === 0) {
    throw new NerionError(
      'NOT_AVAILABLE',
      `No catalog model has a ${options.backend} build. Choose another backend (\`nerion models list\`).`,
      { fix: { command: ['nerion', 'models', 'list'] }, data: { backend: options.backend } },
    );
  }
  const fitting = candidates.filter((family) => fit(family).fitsMachine);
  if (fitting.length === 0) {
    const smallest = [...candidates].sort((left, right) => left.memoryGb - right.memoryGb)[0];
    throw new NerionError(
      'NOT_AVAILABLE',
      `No catalog model fits in this machine's memory (${(memory.totalBytes / GB).toFixed(1)} GB, ${reserve} GB kept free); the smallest, ${smallest.id}, needs about ${smallest.memoryGb} GB. Choose a model explicitly with --model, or add a smaller one to your catalog (NERION_MODEL_CATALOG).`,
      {
        fix: { settings: ['NERION_CODER_MODEL', 'NERION_MODEL_CATALOG'] },
        data: { totalBytes: memory.totalBytes, smallest: smallest.id, memoryGb: smallest.memoryGb },
      },
    );
  }
  const rankOf = (family: CatalogFamily): number => {
    const index = family.strengths.indexOf(task);
    return index === -1 ? Number.POSITIVE_INFINITY : index;
  };
  const ranked = [...fitting].sort(
    (left, right) =>
      Number(fit(right).fitsFreeMemory) - Number(fit(left).fitsFreeMemory) ||
      rankOf(left) - rankOf(right) ||
      right.parametersB - left.parametersB ||
      left.memoryGb - right.memoryGb,
  );
  const family = ranked[0];
  const fitsFreeMemory = fit(family).fitsFreeMemory;
  const reasons = [
    `${family.id} needs about ${family.memoryGb} GB; this machine has ${(memory.totalBytes / GB).toFixed(1)} GB (${freeGb.toFixed(1)} GB free now).`,
    rankOf(family) === Number.POSITIVE_INFINITY
      ? `No fitting model lists "${task}" as a strength; chose the largest that fits.`
      : `It lists "${task}" among its strengths (${family.strengths.join(', ')}).`,
  ];
  if (!fitsFreeMemory)
    reasons.push(`It does not fit in the memory free right now; close other programs before loading it.`);
  return { family, fitsFreeMemory, reasons };
}
