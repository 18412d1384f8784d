/**
 * The one byte formatting every message and progress line uses. Convention: decimal SI units (1 GB = 10^9 bytes),
 * like the catalog's sizes and `memoryGb`, download sizes and disk vendors; never GiB/MiB.
 */
/** `1.50 GB`, `340 MB`, `12.0 KB`, `900 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0
    ? `${Math.round(value)} B`
    : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}
