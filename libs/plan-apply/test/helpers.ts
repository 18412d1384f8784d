/** Test helpers (not exported by the package): temp repositories and plans built through the real schema. */
import { mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { finalizePlan, type Plan, type PlanAction, type PlanCondition, type PlanMetadata } from '@nerion/planner';

export interface TempRepo {
  root: string;
  read(path: string): string;
  exists(path: string): boolean;
  write(path: string, text: string): void;
  remove(): void;
}

export function tempRepo(files: Record<string, string>): TempRepo {
  const root = mkdtempSync(join(tmpdir(), 'nerion-apply-'));
  const repo: TempRepo = {
    root,
    read: (path) => readFileSync(join(root, path), 'utf8'),
    exists: (path) => existsSync(join(root, path)),
    write: (path, text) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  for (const [path, text] of Object.entries(files)) repo.write(path, text);
  return repo;
}

/** A valid plan (schema-checked, real bundle_id) from actions and conditions. */
export function makePlan(
  actions: PlanAction[],
  options: {
    preconditions?: PlanCondition[];
    postconditions?: PlanCondition[];
    metadata?: Partial<PlanMetadata>;
  } = {},
): Plan {
  return finalizePlan(
    {
      actions,
      ...(options.preconditions ? { preconditions: options.preconditions } : {}),
      ...(options.postconditions ? { postconditions: options.postconditions } : {}),
    },
    { source: 'heuristic', instruction: 'test', planner: 'heuristic', ...options.metadata },
  );
}

/** Every file of a repository with its content, for "nothing changed" assertions. */
export function snapshot(repo: TempRepo, paths: string[]): Record<string, string | null> {
  return Object.fromEntries(paths.map((path) => [path, repo.exists(path) ? repo.read(path) : null]));
}
