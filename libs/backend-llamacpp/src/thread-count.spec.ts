import { describe, expect, it } from '@jest/globals';
import { cgroupCpuQuota, chooseThreadCount, detectCpuBudget, physicalCoreCount } from './thread-count.js';

const files = (entries: Record<string, string>) => (path: string) => entries[path];

describe('thread count from the cores actually available', () => {
  it('reads the cgroup v2 quota, rounding up, and treats "max" as unlimited', () => {
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(2);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it('reads the cgroup v1 quota, and -1 means unlimited', () => {
    expect(
      cgroupCpuQuota(
        files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
      ),
    ).toBe(3);
    expect(
      cgroupCpuQuota(
        files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
      ),
    ).toBeUndefined();
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });

  it('counts physical cores as distinct hyper-thread sibling sets', () => {
    const topology = files({
      '/sys/devices/system/cpu/cpu0/topology/thread_siblings_list': '0,4',
      '/sys/devices/system/cpu/cpu4/topology/thread_siblings_list': '0,4',
      '/sys/devices/system/cpu/cpu1/topology/thread_siblings_list': '1,5',
      '/sys/devices/system/cpu/cpu5/topology/thread_siblings_list': '1,5',
    });
    expect(physicalCoreCount(topology, () => ['cpu0', 'cpu1', 'cpu4', 'cpu5'])).toBe(2);
    expect(physicalCoreCount(files({}), () => [])).toBeUndefined();
  });

  it('uses the smallest of affinity, quota and physical cores, and leaves one core free', () => {
    const budget = detectCpuBudget(files({ '/sys/fs/cgroup/cpu.max': '400000 100000' }), 16, () => []);
    expect(budget).toEqual({ logical: 16, cgroupQuota: 4, physical: undefined, usable: 4 });
    expect(chooseThreadCount(budget)).toBe(3);
    expect(chooseThreadCount({ usable: 2 })).toBe(1);
    expect(chooseThreadCount({ usable: 1 })).toBe(1);
  });

  it('on this machine picks at least one thread and never more than the usable cores', () => {
    const budget = detectCpuBudget();
    expect(budget.usable).toBeGreaterThanOrEqual(1);
    expect(chooseThreadCount(budget)).toBeLessThanOrEqual(budget.usable);
  });
});
