/**
 * The record of an autostarted server: `<cacheDir>/run/vllm-<port>.pid` (JSON) and its log `<cacheDir>/logs/vllm-<port>.log`.
 */
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import {
  NerionError,
  isProcessAlive,
  parseJson,
  processCommandLine,
  processStartTicks,
  processStartTime,
} from '@nerion/backend-core';

const PidRecordSchema = v.object({
  pid: v.pipe(v.number(), v.integer(), v.minValue(1)),
  host: v.string(),
  port: v.number(),
  model: v.string(),
  repo: v.string(),
  argv: v.array(v.string()),
  logFile: v.string(),
  startedAt: v.string(),
  /** The process start time in clock ticks since boot (Linux /proc/<pid>/stat field 22): tells a recycled pid apart. */
  startTicks: v.optional(v.number()),
  /** Where /proc has no start ticks (macOS, BSD): the start time as `ps -o lstart=` prints it. */
  startTime: v.optional(v.string()),
  /** The launched process's command line as the OS reports it (/proc/<pid>/cmdline, or `ps -o command=`). */
  cmdline: v.optional(v.array(v.string())),
  baseUrl: v.string(),
});
export type VllmPidRecord = v.InferOutput<typeof PidRecordSchema>;

export interface VllmServerRecord extends VllmPidRecord {
  pidFile: string;
  /** Whether the recorded process is still running. */
  alive: boolean;
}

export function vllmRunDirectory(cacheDir: string): string {
  return join(cacheDir, 'run');
}

export function vllmLogDirectory(cacheDir: string): string {
  return join(cacheDir, 'logs');
}

export function vllmPidFile(cacheDir: string, port: number): string {
  return join(vllmRunDirectory(cacheDir), `vllm-${port}.pid`);
}

export function vllmLogFile(cacheDir: string, port: number): string {
  return join(vllmLogDirectory(cacheDir), `vllm-${port}.log`);
}

/** Whether the recorded server still runs: its pid is alive and, where known, started when it was recorded. */
export function isRecordedProcessAlive(record: Pick<VllmPidRecord, 'pid' | 'startTicks' | 'startTime'>): boolean {
  if (!Number.isSafeInteger(record.pid) || record.pid <= 1) return false;
  if (!isProcessAlive(record.pid)) return false;
  if (record.startTicks !== undefined) {
    const now = processStartTicks(record.pid);
    return now === undefined || now === record.startTicks;
  }
  if (record.startTime !== undefined) {
    const now = processStartTime(record.pid);
    return now === undefined || now === record.startTime;
  }
  return true;
}

/**
 * Why nerion must not signal the process a pid file names, or undefined when it is the server nerion
 * launched: a real pid (> 1, not this process or its parent), a recorded start time equal to the
 * process's, and the command line recorded at launch.
 */
export function whyNotOurs(
  record: Pick<VllmPidRecord, 'pid' | 'startTicks' | 'startTime' | 'cmdline'>,
): string | undefined {
  const { pid } = record;
  if (!Number.isSafeInteger(pid) || pid <= 1)
    return `it names pid ${pid}, which is never a server nerion starts (signalling it would reach every process)`;
  if (pid === process.pid || pid === process.ppid) return `it names pid ${pid}, which is this nerion or its parent`;
  if (record.startTicks === undefined && record.startTime === undefined)
    return `it records no start time for pid ${pid}, so nerion cannot tell that process is the server it started`;
  if (record.cmdline === undefined)
    return `it records no command line for pid ${pid}, so nerion cannot tell that process is the server it started`;
  const now = processCommandLine(pid);
  if (now !== undefined && JSON.stringify(now) !== JSON.stringify(record.cmdline))
    return `pid ${pid} runs \`${now.join(' ').slice(0, 200)}\`, not the command line nerion launched (\`${record.cmdline.join(' ').slice(0, 200)}\`)`;
  return undefined;
}

/** Reads one pid file; undefined when there is none. A corrupt file is an error naming it. */
export function readVllmPidFile(pidFile: string): VllmServerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const body = parseJson(
    text,
    (error) =>
      new NerionError(
        'CACHE_ERROR',
        `The pid file ${pidFile} is not JSON; delete it (after stopping any vLLM server it named).`,
        { cause: error, data: { pidFile } },
      ),
  );
  const parsed = v.safeParse(PidRecordSchema, body);
  if (!parsed.success)
    throw new NerionError(
      'CACHE_ERROR',
      `The pid file ${pidFile} is malformed (${parsed.issues[0].message}); delete it (after stopping any vLLM server it named).`,
      { data: { pidFile } },
    );
  return { ...parsed.output, pidFile, alive: isRecordedProcessAlive(parsed.output) };
}

/** Every recorded autostarted vLLM server, running or stale. */
export function listVllmServers(cacheDir: string): VllmServerRecord[] {
  let names: string[];
  try {
    names = readdirSync(vllmRunDirectory(cacheDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => /^vllm-\d+\.pid$/.test(name))
    .sort()
    .map((name) => readVllmPidFile(join(vllmRunDirectory(cacheDir), name)))
    .filter((record): record is VllmServerRecord => record !== undefined);
}

export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The last `count` lines of a log file (empty when it does not exist). */
export function readLogTail(logFile: string, count = 20): string[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-count);
}
