import { describe, expect, it } from '@jest/globals';
import { loadCatalog } from './load-catalog.js';
import { nearestNames, suggestModelNames } from './suggest-names.js';
import { resolveFamily } from './resolve-model.js';
import { thrown } from '@nerion/test-support';

describe('nearestNames / suggestModelNames', () => {
  it('finds a typo by edit distance and a name by its prefix, best first', () => {
    expect(nearestNames('doctr', ['doctor', 'plan', 'apply'])).toEqual(['doctor']);
    expect(nearestNames('models lst', ['models list', 'models bench', 'plan'])).toEqual(['models list']);
    expect(nearestNames('zzzzzz', ['doctor', 'plan'])).toEqual([]);
    expect(nearestNames('', ['doctor'])).toEqual([]);
  });

  it('maps catalog aliases to their family id (qwen → qwen2.5-coder, codelama → codellama)', () => {
    const catalog = loadCatalog();
    expect(suggestModelNames(catalog, 'qwen')[0]).toBe('qwen2.5-coder');
    expect(suggestModelNames(catalog, 'codelama')[0]).toBe('codellama');
    expect(suggestModelNames(catalog, 'starcodr2')).toEqual(['starcoder2']);
    expect(suggestModelNames(catalog, 'gpt-4o-mini-turbo')).toEqual([]);
  });

  it('resolveFamily carries the suggestions as data and the retry command as fix', () => {
    const catalog = loadCatalog();
    const error = thrown(() =>
      resolveFamily(catalog, 'qwen', { retry: (name) => ['nerion', 'models', 'ensure', '--model', name] }),
    );
    expect(error.code).toBe('UNKNOWN_MODEL');
    expect(error.data.suggestions).toEqual(['qwen2.5-coder']);
    expect(error.fix?.command).toEqual(['nerion', 'models', 'ensure', '--model', 'qwen2.5-coder']);
    expect(error.message).toContain('Did you mean "qwen2.5-coder"?');
  });
});
