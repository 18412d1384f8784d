import { describe, expect, it } from '@jest/globals';
import { NerionError } from '@nerion/backend-core';
import { loadCatalog, selectModelForMachine } from './index.js';

const GB = 1e9;
const catalog = loadCatalog();

describe('selectModelForMachine', () => {
  it('a 24 GB machine gets the strongest planner that fits (deepseek-coder-v2, 13 GB)', () => {
    const selection = selectModelForMachine(catalog, { totalBytes: 24 * GB, freeBytes: 20 * GB });
    expect(selection.family.id).toBe('deepseek-coder-v2');
    expect(selection.fitsFreeMemory).toBe(true);
  });

  it('an 8 GB machine gets qwen2.5-coder (5.5 GB); the others do not fit', () => {
    expect(selectModelForMachine(catalog, { totalBytes: 8 * GB, freeBytes: 7 * GB }).family.id).toBe('qwen2.5-coder');
  });

  it('prefers what fits in free memory now over a larger model that would swap', () => {
    const selection = selectModelForMachine(catalog, { totalBytes: 24 * GB, freeBytes: 6 * GB });
    expect(selection.family.id).toBe('qwen2.5-coder');
  });

  it('only families with a build for the backend are candidates', () => {
    expect(
      selectModelForMachine(catalog, { totalBytes: 24 * GB, freeBytes: 20 * GB }, { backend: 'exllamav2' }).family.id,
    ).toBe('qwen2.5-coder');
  });

  it('nothing fitting is NOT_AVAILABLE naming the smallest model and its need', () => {
    try {
      selectModelForMachine(catalog, { totalBytes: 4 * GB, freeBytes: 3 * GB });
      throw new Error('expected a failure');
    } catch (error) {
      expect(NerionError.hasCode(error, 'NOT_AVAILABLE')).toBe(true);
      expect((error as Error).message).toContain('qwen2.5-coder');
    }
  });
});
