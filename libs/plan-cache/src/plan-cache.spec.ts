import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computePlanCacheKey, PlanCache, type PlannerIdentity } from './index.js';

jest.setTimeout(120_000);

/** The cache only stores what this accepts; tests use a tiny stand-in plan shape. */
function validate(plan: unknown): unknown {
  if (typeof plan !== 'object' || plan === null || typeof (plan as { id?: unknown }).id !== 'string')
    throw new Error('not a plan: needs a string id');
  return plan;
}

const key = (instruction: string, planner: PlannerIdentity = { kind: 'heuristic' }) =>
  computePlanCacheKey({ fingerprint: 'f'.repeat(64), target: 'src/a.py', instruction, planner, schemaVersion: 1 });

describe('plan cache key', () => {
  it('normalises target and instruction whitespace, and separates planners, strictness, grammar and schema versions', () => {
    const base = {
      fingerprint: 'abc',
      target: 'src/a.py',
      instruction: 'add  a function f',
      planner: { kind: 'heuristic' } as PlannerIdentity,
      schemaVersion: 1,
    };
    const same = computePlanCacheKey(base);
    expect(computePlanCacheKey({ ...base, target: './src//a.py', instruction: '  add a function f\n' })).toBe(same);
    const llm: PlannerIdentity = { kind: 'llm', backend: 'llama_cpp', model: 'm', strict: false, jsonGrammar: false };
    const variants = [
      computePlanCacheKey({ ...base, planner: llm }),
      computePlanCacheKey({ ...base, planner: { ...llm, strict: true } }),
      computePlanCacheKey({ ...base, planner: { ...llm, jsonGrammar: true } }),
      computePlanCacheKey({ ...base, planner: { ...llm, model: 'other' } }),
      computePlanCacheKey({ ...base, schemaVersion: 2 }),
      computePlanCacheKey({ ...base, fingerprint: 'abd' }),
      computePlanCacheKey({ ...base, instruction: 'add a function F' }),
      computePlanCacheKey({ ...base, target: undefined }),
      // New heuristic rules never serve plans cached by older ones.
      computePlanCacheKey({ ...base, planner: { kind: 'heuristic', rules: 2 } }),
      computePlanCacheKey({ ...base, planner: { kind: 'heuristic', rules: 3 } }),
    ];
    expect(new Set([same, ...variants]).size).toBe(variants.length + 1);
  });
});

describe('PlanCache', () => {
  let root: string;
  let warnings: string[];
  let cache: PlanCache;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'nerion-cache-'));
    warnings = [];
    cache = new PlanCache({ root, validate, onWarning: (message) => warnings.push(message) });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores and serves validated plans in .nerion/plan_cache.json, and ignores .nerion in git', async () => {
    expect(await cache.get(key('a'))).toBeUndefined();
    await cache.set(key('a'), { id: 'plan-a' }, { instruction: 'a' });
    expect(await cache.get(key('a'))).toEqual({ id: 'plan-a' });
    const file = JSON.parse(readFileSync(join(root, '.nerion', 'plan_cache.json'), 'utf8'));
    expect(file.version).toBe(1);
    expect(file.entries[key('a')]).toMatchObject({ plan: { id: 'plan-a' }, instruction: 'a' });
    expect(readFileSync(join(root, '.nerion', '.gitignore'), 'utf8')).toContain('*');
    expect(readdirSync(join(root, '.nerion')).sort()).toEqual(['.gitignore', 'plan_cache.json']); // no temp or lock files left
  });

  it('refuses to store a plan that does not validate, and skips a stored one that no longer does', async () => {
    await expect(cache.set(key('bad'), { nope: true })).rejects.toThrow('not a plan');
    await cache.set(key('a'), { id: 'a' });
    const path = join(root, '.nerion', 'plan_cache.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.entries[key('a')].plan = { id: 42 };
    writeFileSync(path, JSON.stringify(file));
    expect(await cache.get(key('a'))).toBeUndefined();
    expect(warnings.join('\n')).toContain('no longer validates');
  });

  it('does not serve an entry edited into another valid plan, nor one moved under another key (digest)', async () => {
    await cache.set(key('a'), { id: 'a', note: 'as planned' });
    await cache.set(key('b'), { id: 'b' });
    const path = join(root, '.nerion', 'plan_cache.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.entries[key('a')].plan.note = 'edited by hand';
    file.entries[key('b')].plan = { id: 'b' };
    file.entries[key('b')].digest = file.entries[key('a')].digest;
    writeFileSync(path, JSON.stringify(file));
    expect(await cache.get(key('a'))).toBeUndefined();
    expect(await cache.get(key('b'))).toBeUndefined();
    expect(warnings.join('\n')).toContain('digest does not match');
    await cache.set(key('a'), { id: 'a', note: 'as planned' });
    expect(await cache.get(key('a'))).toEqual({ id: 'a', note: 'as planned' });
  });

  it('a FIFO as plan_cache.json is set aside, not read for ever; a FIFO as the lock times out with CACHE_ERROR', async () => {
    mkdirSync(join(root, '.nerion'));
    expect(spawnSync('mkfifo', [join(root, '.nerion', 'plan_cache.json')]).status).toBe(0);
    expect(await cache.get(key('a'))).toBeUndefined();
    expect(warnings.join('\n')).toContain('not a regular file');
    await cache.set(key('a'), { id: 'a' });
    expect(await cache.get(key('a'))).toEqual({ id: 'a' });
    expect(spawnSync('mkfifo', [join(root, '.nerion', 'plan_cache.json.lock')]).status).toBe(0);
    const impatient = new PlanCache({ root, validate, lockTimeoutMs: 300 });
    await expect(impatient.set(key('b'), { id: 'b' })).rejects.toMatchObject({ code: 'CACHE_ERROR' });
  });

  it('sets a corrupt file aside as plan_cache.json.corrupt-<timestamp> and rebuilds', async () => {
    mkdirSync(join(root, '.nerion'));
    writeFileSync(join(root, '.nerion', 'plan_cache.json'), '{"version": 1, "entries": {"tor');
    expect(await cache.get(key('a'))).toBeUndefined();
    const aside = readdirSync(join(root, '.nerion')).filter((name) => name.startsWith('plan_cache.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/^plan_cache\.json\.corrupt-\d{4}-\d\d-\d\dT/u);
    expect(readFileSync(join(root, '.nerion', aside[0]!), 'utf8')).toContain('"tor');
    expect(warnings.join('\n')).toContain('corrupt');
    await cache.set(key('a'), { id: 'a' });
    expect(await cache.get(key('a'))).toEqual({ id: 'a' });
  });

  it('evicts the least recently used entries beyond its bound', async () => {
    let now = 1_000_000;
    const small = new PlanCache({ root, validate, maxEntries: 3, touchIntervalMs: 0, now: () => now });
    for (const name of ['a', 'b', 'c']) {
      now += 1000;
      await small.set(key(name), { id: name });
    }
    now += 1000;
    expect(await small.get(key('a'))).toEqual({ id: 'a' }); // a is now the most recently used
    now += 1000;
    await small.set(key('d'), { id: 'd' });
    const kept = Object.values(await small.entries())
      .map((entry) => (entry.plan as { id: string }).id)
      .sort();
    expect(kept).toEqual(['a', 'c', 'd']);
  });

  it('bounds the file size too', async () => {
    const small = new PlanCache({ root, validate, maxBytes: 2000 });
    for (let index = 0; index < 10; index += 1)
      await small.set(key(`i${index}`), { id: `i${index}`, padding: 'x'.repeat(500) });
    expect(readFileSync(small.file).length).toBeLessThanOrEqual(2000);
    expect(Object.keys(await small.entries()).length).toBeGreaterThan(0);
  });

  it('breaks a stale lock left by a crashed process (dead pid), and waits for a live one', async () => {
    mkdirSync(join(root, '.nerion'));
    writeFileSync(
      cache.lockFile,
      JSON.stringify({
        token: 'x',
        pid: 2 ** 22 + 12345,
        host: (await import('node:os')).hostname(),
        created: Date.now(),
      }),
    );
    await cache.set(key('a'), { id: 'a' });
    expect(warnings.join('\n')).toContain('broke a stale plan cache lock');
    expect(existsSync(cache.lockFile)).toBe(false);

    writeFileSync(
      cache.lockFile,
      JSON.stringify({ token: 'y', pid: process.pid, host: (await import('node:os')).hostname(), created: Date.now() }),
    );
    const patient = new PlanCache({ root, validate, lockTimeoutMs: 300 });
    await expect(patient.set(key('b'), { id: 'b' })).rejects.toMatchObject({
      code: 'CACHE_ERROR',
      message: expect.stringContaining('--no-cache'),
    });
    const old = new Date(Date.now() - 60_000);
    utimesSync(cache.lockFile, old, old);
    await patient.set(key('b'), { id: 'b' }); // an old lock is stale even when its pid is alive
    expect(Object.keys(await patient.entries())).toHaveLength(2);
  });

  it('loses no entry when several processes write at once (re-read, merge, write under the lock)', async () => {
    const source = join(dirname(fileURLToPath(import.meta.url)), 'index.ts');
    const script = join(root, 'writer.mts');
    writeFileSync(
      script,
      `import { PlanCache, computePlanCacheKey } from ${JSON.stringify(source)};
const [root, worker] = process.argv.slice(2);
const cache = new PlanCache({ root, validate: (plan) => plan });
for (let index = 0; index < 5; index += 1) {
  const instruction = 'w' + worker + '-' + index;
  await cache.set(computePlanCacheKey({ fingerprint: 'f', target: undefined, instruction, planner: { kind: 'heuristic' }, schemaVersion: 1 }), { id: instruction });
}
`,
    );
    const run = (worker: number) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, root, String(worker)], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('error', reject);
        child.on('close', resolve);
      });
    const statuses = await Promise.all([0, 1, 2, 3, 4, 5].map(run));
    expect(statuses).toEqual([0, 0, 0, 0, 0, 0]);
    const entries = await cache.entries();
    expect(Object.keys(entries)).toHaveLength(30);
    expect(
      readdirSync(join(root, '.nerion'))
        .filter((name) => name !== '.gitignore')
        .sort(),
    ).toEqual(['plan_cache.json']); // no temp, lock or set-aside file left
  });
});
