/**
 * The record of an autostarted server: `<cacheDir>/run/vllm-<port>.pid` (JSON) and its log `<cacheDir>/logs/vllm-<port>.log`.
 */
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { NerionError, isProcessAlive, processStartTicks } from '@nerion/backend-core';

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
export function isRecordedProcessAlive(record: Pick<VllmPidRecord, 'pid' | 'startTicks'>): boolean {
  if (!isProcessAlive(record.pid)) return false;
  if (record.startTicks === undefined) return true;
  const now = processStartTicks(record.pid);
  return now === undefined || now === record.startTicks;
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
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new NerionError(
      'CACHE_ERROR',
      `The pid file ${pidFile} is not JSON; delete it (after stopping any vLLM server it named).`,
      { cause: error, data: { pidFile } },
    );
  }
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
