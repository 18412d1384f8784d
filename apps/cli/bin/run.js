#!/usr/bin/env node
// CommonJS (see ./package.json), not an ES module: an ES-module entry makes Node start its ES-module loader,
// ~5 ms of CPU, which a plan-cache hit (within 2x of `node -e 0`) cannot afford. A miss and every other
// command import oclif (and through it the ES-module commands) as before.
//
// `nerion --version` is answered before oclif loads (it is what scripts call most, and oclif's import
// alone costs ~150 ms); the output is oclif's own format. Everything else goes through oclif.
'use strict';

if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { name, version } = require('../package.json');
  const line = `${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`;
  // One write(2) (atomic for a line this short): creating process.stdout for a pipe costs ~3–5 ms of CPU.
  // If it cannot be written so (a full non-blocking pipe, a closed one), the stream writes and reports it.
  try {
    require('node:fs').writeSync(1, line);
  } catch {
    process.stdout.write(line);
  }
} else {
  void main();
}

async function main() {
  // `nerion plan` cache hits are served before oclif loads: see src/plan-fast-path.ts. The bundle, one
  // CommonJS file built from it by tools/scripts/bundle-plan-fast-path.mjs, is one read and one compile.
  if (
    process.argv[2] === 'plan' &&
    (await require('../dist/plan-fast-path.bundle.cjs').servePlanFromCache(process.argv.slice(3)))
  )
    return;
  const { execute } = await import('@oclif/core');
  // The CLI's folder, not this file's: ./package.json here only says "commonjs".
  await execute({ dir: require('node:path').join(__dirname, '..') });
}
