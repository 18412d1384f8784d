import { describe, expect, it } from '@jest/globals';
import { findFamily, parseCatalog, resolveFamily, resolveModelForBackend } from './index.js';

function largeCatalog(count: number): string {
  const lines = ['version: 1', 'families:'];
  for (let index = 0; index < count; index += 1) {
    lines.push(
      `  - id: fam-${index}`,
      `    aliases: [Alias-${index}]`,
      `    display_name: F ${index}`,
      '    parameters_b: 1',
      '    context_length: 4096',
      '    memory_gb: 1',
      '    languages: [python]',
      '    strengths: [edit]',
      ...(index === 0 ? ['    backends: {}'] : ['    backends:', '      ollama:', `        tag: fam-${index}:latest`]),
    );
  }
  return `${lines.join('\n')}\n`;
}

// Speed is measured by tools/bench/models-list-large.mjs (per-family cost ratio); this checks behaviour.
describe('name resolution on a large generated catalog (indexed once per catalog)', () => {
  const catalog = parseCatalog(largeCatalog(3000), 'large.yaml');

  it('finds every family by id and by alias, exactly and case-insensitively, and nothing else', () => {
    for (const index of [0, 1, 1500, 2999]) {
      expect(findFamily(catalog, `fam-${index}`)?.id).toBe(`fam-${index}`);
      expect(findFamily(catalog, ` alias-${index} `)?.id).toBe(`fam-${index}`);
    }
    expect(findFamily(catalog, 'fam-')).toBeUndefined();
    expect(findFamily(catalog, '')).toBeUndefined();
  });

  it('a missing build names at most 10 families that have one and counts the rest', () => {
    const resolution = resolveModelForBackend(catalog, 'ollama', 'fam-0');
    expect(resolution.missingEntry).toBe(
      `The catalog has no ollama build of fam-0; families that have one: ${Array.from({ length: 10 }, (_, index) => `fam-${index + 1}`).join(', ')} and 2989 more (\`nerion models list\`).`,
    );
  });

  it('an unknown name lists the first 20 known names and counts the rest', () => {
    let message = '';
    try {
      resolveFamily(catalog, 'nope');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('fam-19 (aliases: Alias-19); and 2980 more');
    expect(message).not.toContain('fam-20 ');
  });

  it('a catalog object whose families are replaced is indexed again', () => {
    const small = parseCatalog(largeCatalog(2), 'small.yaml');
    const edited = { ...small, families: [small.families[1]!] };
    expect(findFamily(small, 'fam-0')?.id).toBe('fam-0');
    expect(findFamily(edited, 'fam-0')).toBeUndefined();
    expect(findFamily(edited, 'alias-1')?.id).toBe('fam-1');
  });
});
