import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// The dependency arrows between nerion's packages, enforced by @nx/enforce-module-boundaries (eslint).
// Each package tags itself in its package.json (`nx.tags`); see docs/architecture.md.
//
//   type:core          @nerion/backend-core — the open spec; depends on nothing of ours
//   type:consumer      config, catalog, planner, plan-cache, bench — use the spec only
//   type:plan-apply    @nerion/plan-apply — the spec, and the planner it applies plans of (scope:planner)
//   type:backend-base  a base other backends build on (@nerion/backend-openai-compatible) — uses the spec only
//   type:backend       ollama, llama_cpp, vllm, exllamav2 — the spec, plus a backend base
//   type:app           the CLI — assembles everything (but not the test stand-ins)
//   type:test-support  stand-ins and fixtures — for tests only
//   type:example       docs/examples (a fourth-party backend) — the spec only
const SOURCE = {
  'type:core': [],
  'type:consumer': ['type:core'],
  'type:plan-apply': ['type:core', 'scope:planner'],
  'type:backend-base': ['type:core'],
  'type:backend': ['type:core', 'type:backend-base'],
  'type:app': ['type:core', 'type:consumer', 'type:plan-apply', 'type:backend-base', 'type:backend'],
  // docs/examples: a fourth-party backend, written against the spec alone.
  'type:example': ['type:core'],
  // The stand-ins run a real engine (node-llama-cpp through backend-llamacpp).
  'type:test-support': ['type:core', 'type:backend'],
};

const ALL_PACKAGES = readdirSync(join(import.meta.dirname, '../../libs')).map((name) => `@nerion/${name}`);

/** The rule's options; `tests: true` adds what tests may use on top (test-support, a real engine backend). */
export function moduleBoundaries({ tests }) {
  return {
    enforceBuildableLibDependency: false,
    // The GGUF fixture builders live in tools/fixtures (plain .mjs shared with the Jest global setup).
    allow: ['../../../tools/fixtures/**', '../../../../tools/fixtures/**'],
    // The CLI imports backends lazily (await import) and only their light `./settings` entry statically;
    // the no-restricted-imports rule in eslint.config.js keeps their main entries out of static imports.
    // (Tests may import anything statically: lazy loading is about the CLI's start-up.)
    checkDynamicDependenciesExceptions: tests
      ? ALL_PACKAGES
      : [
          '@nerion/backend-ollama',
          '@nerion/backend-vllm',
          '@nerion/backend-llamacpp',
          '@nerion/backend-exllama',
          '@nerion/backend-openai-compatible',
        ],
    depConstraints: Object.entries(SOURCE).map(([sourceTag, allowed]) => ({
      sourceTag,
      onlyDependOnLibsWithTags: tests
        ? [...new Set([...allowed, 'type:test-support', 'type:backend', 'type:backend-base'])]
        : allowed,
    })),
  };
}

/**
 * The rule reads Nx's cached project graph and silently skips itself when there is none (a fresh clone, after
 * `nx reset`). So when the cache is missing, compute it first in a child process (`nx show projects`; Nx may load
 * this config while it builds the graph, hence the guard variable against recursion).
 */
export function ensureProjectGraph(root) {
  if (process.env.NERION_LINT_GRAPH === '1') return;
  // Loaded by Nx itself (its eslint plugin, in a plugin worker or in process) while it builds the graph: a child
  // `nx show projects` would wait for that very graph, a deadlock. Nx has the graph by the time eslint runs.
  if (/[\\/]node_modules[\\/](nx[\\/]|\.bin[\\/]nx$)/.test(process.argv[1] ?? '')) return;
  if (existsSync(join(root, '.nx', 'workspace-data', 'project-graph.json'))) return;
  const result = spawnSync(join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NERION_LINT_GRAPH: '1' },
  });
  if (result.status !== 0)
    throw new Error('eslint: could not compute the Nx project graph (`nx show projects` failed)');
}
