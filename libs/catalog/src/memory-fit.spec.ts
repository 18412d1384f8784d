import { describe, expect, it } from '@jest/globals';
import { chooseAutoSelection, memoryFit, selectModelForMachine, type CatalogFamily } from './index.js';
import { loadCatalog } from './load-catalog.js';

const GB = 1e9;

describe('memoryFit (the one rule both selectors use)', () => {
  it('fits the machine at total − reserve, and fits now at free memory, both inclusive', () => {
    const memory = { totalBytes: 16 * GB, freeBytes: 6 * GB };
    expect(memoryFit(14, memory)).toMatchObject({ fitsMachine: true, fitsFreeMemory: false, usableGb: 14 });
    expect(memoryFit(14.1, memory).fitsMachine).toBe(false);
    expect(memoryFit(6, memory).fitsFreeMemory).toBe(true);
    expect(memoryFit(13, memory, 4).fitsMachine).toBe(false);
  });

  it('selectModelForMachine and chooseAutoSelection agree on the boundary', () => {
    const catalog = loadCatalog();
    const family: CatalogFamily = [...catalog.families].sort((a, b) => a.memoryGb - b.memoryGb)[0]!;
    // Exactly at the boundary it fits; a byte less and it does not, for both selectors.
    for (const [totalBytes, fits] of [
      [(family.memoryGb + 2) * GB, true],
      [(family.memoryGb + 2) * GB - 1, false],
    ] as const) {
      const memory = { totalBytes, freeBytes: 0 };
      const narrowed = { ...catalog, families: [family] };
      const selected = (() => {
        try {
          return selectModelForMachine(narrowed, memory).family.id;
        } catch {
          return undefined;
        }
      })();
      expect(selected === family.id).toBe(fits);
      // In-process llama_cpp: a model that does not fit is out (the selection then fails NOT_AVAILABLE).
      const auto = (() => {
        try {
          return chooseAutoSelection({
            candidates: [{ backend: 'llama_cpp', family, model: family.id, available: true }],
            task: { kind: 'plan', evidence: [] },
            memory,
          }).model;
        } catch {
          return undefined;
        }
      })();
      expect(auto === family.id).toBe(fits);
    }
  });
});
