#!/usr/bin/env node
// `nerion --version` is answered before oclif loads (it is what scripts call most, and oclif's import
// alone costs ~150 ms); the output is oclif's own format. Everything else goes through oclif.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { readFileSync } = await import('node:fs');
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (!(
  process.argv[2] === 'plan' &&
  (await (await import('../dist/plan-fast-path.bundle.js')).servePlanFromCache(process.argv.slice(3)))
)) {
  // (`nerion plan` cache hits are served before oclif loads: see src/plan-fast-path.ts; the bundle, one
  // file built from it by tools/scripts/bundle-plan-fast-path.mjs, halves what a hit spends loading code.)
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
