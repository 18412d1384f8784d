/**
 * Thread count for llama.cpp, chosen from the cores this process can actually use.
 * llama.cpp's worker threads busy-wait between tokens: oversubscribing a core (more threads than cores,
 * or a thread per core while Node's event loop also needs one) slows decoding by up to 60× on a 2-core
 * machine. So: usable = min(CPU affinity, cgroup CPU quota, physical cores); threads = usable − 1, at least 1.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface CpuBudget {
  /** Logical CPUs the process may run on (os.availableParallelism: affinity-aware). */
  logical: number;
  /** CPUs allowed by the cgroup CPU quota (cgroup v2 `cpu.max` or v1 `cfs_quota_us`), when limited. */
  cgroupQuota: number | undefined;
  /** Physical cores (distinct sibling sets in /sys), when readable. */
  physical: number | undefined;
  /** The smallest of the above. */
  usable: number;
}

/** A file reader for tests; returns undefined when the file is absent or unreadable. */
export type ReadTextFile = (path: string) => string | undefined;

const readIfPresent: ReadTextFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EACCES')
      return undefined;
    throw error;
  }
};

/** CPUs allowed by the cgroup quota, or undefined when unlimited or not in a cgroup. */
export function cgroupCpuQuota(read: ReadTextFile = readIfPresent): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim();
  if (v2) {
    const [quota, period] = v2.split(/\s+/);
    if (quota !== 'max' && quota !== undefined && period !== undefined && Number(period) > 0)
      return Math.max(1, Math.ceil(Number(quota) / Number(period)));
    return undefined;
  }
  const quota = Number(
    read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim() ??
      read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us')?.trim() ??
      '-1',
  );
  const period = Number(
    read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim() ??
      read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us')?.trim() ??
      '0',
  );
  if (quota > 0 && period > 0) return Math.max(1, Math.ceil(quota / period));
  return undefined;
}

/** Physical cores, from the distinct thread-sibling sets in /sys; undefined when /sys does not say. */
export function physicalCoreCount(
  read: ReadTextFile = readIfPresent,
  listCpus: () => string[] = listSysCpus,
): number | undefined {
  const siblings = new Set<string>();
  for (const cpu of listCpus()) {
    const list = read(`/sys/devices/system/cpu/${cpu}/topology/thread_siblings_list`)?.trim();
    if (list) siblings.add(list);
  }
  return siblings.size > 0 ? siblings.size : undefined;
}

function listSysCpus(): string[] {
  try {
    return readdirSync('/sys/devices/system/cpu').filter((name) => /^cpu\d+$/.test(name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function detectCpuBudget(
  read: ReadTextFile = readIfPresent,
  logical = availableParallelism(),
  listCpus: () => string[] = listSysCpus,
): CpuBudget {
  const cgroupQuota = cgroupCpuQuota(read);
  const physical = physicalCoreCount(read, listCpus);
  const usable = Math.max(1, Math.min(logical, cgroupQuota ?? Infinity, physical ?? Infinity));
  return { logical, cgroupQuota, physical, usable };
}

/** The default thread count for a CPU budget: one core is left to Node's event loop and the OS. */
export function chooseThreadCount(budget: Pick<CpuBudget, 'usable'>): number {
  return Math.max(1, budget.usable - 1);
}
