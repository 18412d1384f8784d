/**
 * The memory-fit rule both model selectors use (selectModelForMachine and chooseAutoSelection): a model
 * fits this machine when its `memory_gb` is at most total memory minus a reserve kept for the OS and other
 * programs, and fits *now* when it is at most the memory free at the moment.
 */
import type { MachineMemory } from './select-model.js';

/** Memory kept for the OS and other programs when no reserve is given. */
export const DEFAULT_RESERVE_GB = 2;
const GB = 1e9;

export interface MemoryFit {
  /** memoryGb ≤ total − reserve */
  readonly fitsMachine: boolean;
  /** memoryGb ≤ free memory now */
  readonly fitsFreeMemory: boolean;
  readonly totalGb: number;
  readonly freeGb: number;
  readonly usableGb: number;
  readonly reserveGb: number;
}

export function memoryFit(memoryGb: number, memory: MachineMemory, reserveGb = DEFAULT_RESERVE_GB): MemoryFit {
  const totalGb = memory.totalBytes / GB;
  const freeGb = memory.freeBytes / GB;
  const usableGb = totalGb - reserveGb;
  return {
    fitsMachine: memoryGb <= usableGb,
    fitsFreeMemory: memoryGb <= freeGb,
    totalGb,
    freeGb,
    usableGb,
    reserveGb,
  };
}
