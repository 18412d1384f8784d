// `nerion models list --json` on a large user catalog (NERION_MODEL_CATALOG): is the cost per family flat?
// Per-family cost = (time with N families − time with the packaged catalog alone) ÷ N, measured for a small
// and a large N in the same run; the ratio large ÷ small is ~1 when the work is linear in the catalog and
// ~N_large/N_small when it is quadratic (issue #12: 8,000 families took 38 s and 370 MB). Target ≤ 1.5.
// Also prints the peak memory (maxRSS) of the large run. Nothing listens on the engines' ports here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'apps/cli/bin/run.js');
const small = Number(process.argv[2] ?? 500);
const large = Number(process.argv[3] ?? 4000);
const runs = Number(process.argv[4] ?? 3);
const directory = mkdtempSync(join(tmpdir(), 'nerion-bench-list-'));

function catalog(count) {
  const lines = ['version: 1', 'families:'];
  for (let index = 0; index < count; index += 1) {
    lines.push(
      `  - id: bench-${index}`,
      `    aliases: [b${index}]`,
      `    display_name: Bench ${index}`,
      '    parameters_b: 1',
      '    context_length: 4096',
      '    memory_gb: 1',
      '    languages: [python]',
      '    strengths: [edit]',
      '    backends:',
      // Every other family lacks a GGUF build: "no-build" entries name the families that have one.
      ...(index % 2 === 0
        ? [
            '      llama_cpp:',
            `        filename: bench-${index}.gguf`,
            `        url: http://127.0.0.1:9/bench-${index}.gguf`,
            '        size_bytes: 1000',
            `        sha256: "${'0'.repeat(64)}"`,
          ]
        : []),
      '      ollama:',
      `        tag: bench-${index}:latest`,
    );
  }
  const file = join(directory, `catalog-${count}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const env = {
  PATH: process.env.PATH ?? '',
  HOME: directory,
  NERION_CACHE_DIR: join(directory, 'cache'),
  NERION_CODER_BASE_URL: 'http://127.0.0.1:9',
};

function time(file) {
  const samples = [];
  let peak = 0;
  for (let index = 0; index < runs; index += 1) {
    const started = process.hrtime.bigint();
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `process.on('exit',()=>process.stderr.write('\\nmaxrss '+process.resourceUsage().maxRSS+'\\n'));await import(${JSON.stringify(cli)})`,
        cli,
        'models',
        'list',
        '--json',
      ],
      { env: { ...env, ...(file ? { NERION_MODEL_CATALOG: file } : {}) }, encoding: 'utf8', maxBuffer: 1 << 30 },
    );
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0) throw new Error(`models list exited ${result.status}: ${result.stderr.slice(0, 500)}`);
    peak = Math.max(peak, Number(/maxrss (\d+)/.exec(result.stderr)?.[1] ?? 0));
  }
  return { ms: median(samples), peakMb: peak / 1024 };
}

try {
  const base = time(undefined);
  const smallRun = time(catalog(small));
  const largeRun = time(catalog(large));
  const perSmall = (smallRun.ms - base.ms) / small;
  const perLarge = (largeRun.ms - base.ms) / large;
  console.log(`packaged catalog only   median ${base.ms.toFixed(0)} ms`);
  console.log(
    `${String(small).padStart(5)} families         median ${smallRun.ms.toFixed(0)} ms   ${(perSmall * 1000).toFixed(1)} µs/family`,
  );
  console.log(
    `${String(large).padStart(5)} families         median ${largeRun.ms.toFixed(0)} ms   ${(perLarge * 1000).toFixed(1)} µs/family   peak ${largeRun.peakMb.toFixed(0)} MB`,
  );
  console.log(
    `per-family cost ratio ${large} ÷ ${small}: ${(perLarge / perSmall).toFixed(2)} (target ≤ 1.5; quadratic would be ~${(large / small).toFixed(0)})`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
}
