import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive, processStartTicks } from '@nerion/backend-core';
import { thrown } from '@nerion/test-support';
import { isRecordedProcessAlive, listVllmServers, readLogTail, vllmPidFile } from './pid-file.js';
import { vllmParallelismArguments, vllmServeArguments, type VllmParallelism } from './serve-arguments.js';
import { serverAddressFromBaseUrl } from './server-address.js';
import { ensureVllmModel } from './ensure-model.js';
import { stopVllmServers } from './vllm-server.js';

const temporary = mkdtempSync(join(tmpdir(), 'nerion-vllm-unit-'));
afterAll(() => rmSync(temporary, { recursive: true, force: true }));

describe('serverAddressFromBaseUrl', () => {
  it('takes host and port from the URL, with the scheme default port when none is written', () => {
    expect(serverAddressFromBaseUrl('http://localhost:8000')).toEqual({
      protocol: 'http:',
      host: 'localhost',
      port: 8000,
      isLocal: true,
    });
    expect(serverAddressFromBaseUrl('http://127.0.0.1/v1')).toMatchObject({ port: 80, isLocal: true });
    expect(serverAddressFromBaseUrl('https://gpu-box.lan')).toMatchObject({
      host: 'gpu-box.lan',
      port: 443,
      isLocal: false,
    });
    expect(serverAddressFromBaseUrl('http://[::1]:9000')).toMatchObject({ host: '::1', port: 9000, isLocal: true });
  });

  it('rejects what is not an http(s) URL with CONFIG_INVALID', () => {
    for (const value of ['localhost:8000', 'ftp://host:21', 'not a url']) {
      const caught = thrown(() => serverAddressFromBaseUrl(value));
      expect(caught.code).toBe('CONFIG_INVALID');
    }
  });
});

describe('vllmServeArguments', () => {
  const input = {
    repo: 'Qwen/Qwen2.5-Coder-7B-Instruct',
    servedModelName: 'qwen2.5-coder',
    host: '127.0.0.1',
    port: 8001,
  };

  it('builds `vllm serve <repo> --served-model-name <name> --host 127.0.0.1 --port <port>`', () => {
    expect(vllmServeArguments(['vllm', 'serve'], input)).toEqual([
      'vllm',
      'serve',
      'Qwen/Qwen2.5-Coder-7B-Instruct',
      '--served-model-name',
      'qwen2.5-coder',
      '--host',
      '127.0.0.1',
      '--port',
      '8001',
    ]);
  });

  it('passes the repo as --model to a launcher that is not `… serve` (the api_server module), and appends extra arguments', () => {
    expect(
      vllmServeArguments(['python', '-m', 'vllm.entrypoints.openai.api_server'], {
        ...input,
        extraArgs: ['--max-model-len', '8192'],
      }),
    ).toEqual([
      'python',
      '-m',
      'vllm.entrypoints.openai.api_server',
      '--model',
      'Qwen/Qwen2.5-Coder-7B-Instruct',
      '--served-model-name',
      'qwen2.5-coder',
      '--host',
      '127.0.0.1',
      '--port',
      '8001',
      '--max-model-len',
      '8192',
    ]);
  });
});

describe('pid files and logs', () => {
  it('a pid file whose process is gone is listed as not alive, and stopping removes it without signalling anyone', async () => {
    const cacheDir = join(temporary, 'stale');
    mkdirSync(join(cacheDir, 'run'), { recursive: true });
    // A pid that cannot be running: beyond Linux's pid_max ceiling.
    const record = {
      pid: 4_194_304 + 17,
      host: '127.0.0.1',
      port: 8123,
      model: 'm',
      repo: 'r',
      argv: ['vllm'],
      logFile: join(cacheDir, 'logs', 'vllm-8123.log'),
      startedAt: new Date().toISOString(),
      baseUrl: 'http://127.0.0.1:8123',
    };
    writeFileSync(vllmPidFile(cacheDir, 8123), JSON.stringify(record));
    expect(isProcessAlive(record.pid)).toBe(false);
    expect(listVllmServers(cacheDir)).toMatchObject([{ pid: record.pid, port: 8123, alive: false }]);
    expect(await stopVllmServers({ cacheDir })).toMatchObject([
      { pid: record.pid, wasRunning: false, signal: undefined },
    ]);
    expect(existsSync(vllmPidFile(cacheDir, 8123))).toBe(false);
  });

  it('a recycled pid (alive, but started at another time than recorded) counts as not alive, so it is never signalled', async () => {
    const ticks = processStartTicks(process.pid);
    if (process.platform === 'linux') expect(ticks).toBeGreaterThan(0);
    expect(isRecordedProcessAlive({ pid: process.pid, startTicks: ticks })).toBe(true);
    if (ticks === undefined) return;
    expect(isRecordedProcessAlive({ pid: process.pid, startTicks: ticks + 1 })).toBe(false);
    const cacheDir = join(temporary, 'recycled');
    mkdirSync(join(cacheDir, 'run'), { recursive: true });
    const record = {
      pid: process.pid,
      startTicks: ticks + 1,
      host: '127.0.0.1',
      port: 8124,
      model: 'm',
      repo: 'r',
      argv: ['vllm'],
      logFile: 'x.log',
      startedAt: new Date().toISOString(),
      baseUrl: 'http://127.0.0.1:8124',
    };
    writeFileSync(vllmPidFile(cacheDir, 8124), JSON.stringify(record));
    // Stopping must only drop the stale record: this test's own process is the "recycled" pid.
    expect(await stopVllmServers({ cacheDir })).toMatchObject([{ pid: process.pid, wasRunning: false }]);
    expect(isProcessAlive(process.pid)).toBe(true);
  });

  it('a corrupt pid file is a CACHE_ERROR naming the file, not an empty list', () => {
    const cacheDir = join(temporary, 'corrupt');
    mkdirSync(join(cacheDir, 'run'), { recursive: true });
    writeFileSync(vllmPidFile(cacheDir, 8000), '{not json');
    const caught = thrown(() => listVllmServers(cacheDir));
    expect(caught.code).toBe('CACHE_ERROR');
    expect(caught.message).toContain(vllmPidFile(cacheDir, 8000));
  });

  it('no run directory means no servers; the log tail is the last lines', () => {
    expect(listVllmServers(join(temporary, 'nothing-here'))).toEqual([]);
    const log = join(temporary, 'tail.log');
    writeFileSync(log, Array.from({ length: 30 }, (_, index) => `line ${index}`).join('\n') + '\n');
    expect(readLogTail(log, 3)).toEqual(['line 27', 'line 28', 'line 29']);
    expect(readLogTail(join(temporary, 'missing.log'))).toEqual([]);
    expect(isProcessAlive(process.pid)).toBe(true);
  });
});

describe('ensureVllmModel', () => {
  it('gives the exact serve command (repo, revision, served name, address) and the env that points nerion at it', () => {
    const ensured = ensureVllmModel({
      model: 'qwen2.5-coder',
      displayName: 'Qwen2.5 Coder 7B',
      repo: 'Qwen/Qwen2.5-Coder-7B-Instruct',
      revision: 'main',
      servedName: 'qwen2.5-coder',
      port: 8001,
    });
    expect(ensured.status).toBe('instructions');
    expect(ensured.commands).toEqual([
      [
        'vllm',
        'serve',
        'Qwen/Qwen2.5-Coder-7B-Instruct',
        '--revision',
        'main',
        '--served-model-name',
        'qwen2.5-coder',
        '--host',
        '127.0.0.1',
        '--port',
        '8001',
      ],
    ]);
    expect(ensured.env).toEqual({
      NERION_CODER_BACKEND: 'vllm',
      NERION_CODER_MODEL: 'qwen2.5-coder',
      NERION_CODER_BASE_URL: 'http://127.0.0.1:8001',
    });
    expect(ensured.lines).toContain(
      'vllm serve Qwen/Qwen2.5-Coder-7B-Instruct --revision main --served-model-name qwen2.5-coder --host 127.0.0.1 --port 8001',
    );
  });
});

describe('vLLM parallelism as typed settings', () => {
  const input = {
    repo: 'Qwen/Qwen2.5-Coder-32B-Instruct',
    servedModelName: 'qwen2.5-coder',
    host: '127.0.0.1',
    port: 8000,
  };

  it('writes --tensor-parallel-size, --pipeline-parallel-size, --data-parallel-size and --distributed-executor-backend before the extra arguments', () => {
    expect(
      vllmServeArguments(['vllm', 'serve'], {
        ...input,
        parallelism: {
          tensorParallelSize: 4,
          pipelineParallelSize: 2,
          dataParallelSize: 1,
          distributedExecutorBackend: 'ray',
        },
        extraArgs: ['--max-model-len', '8192', '--gpu-memory-utilization', '0.9'],
      }).slice(9),
    ).toEqual([
      '--tensor-parallel-size',
      '4',
      '--pipeline-parallel-size',
      '2',
      '--data-parallel-size',
      '1',
      '--distributed-executor-backend',
      'ray',
      '--max-model-len',
      '8192',
      '--gpu-memory-utilization',
      '0.9',
    ]);
    expect(vllmParallelismArguments({})).toEqual([]);
    expect(vllmParallelismArguments(undefined)).toEqual([]);
  });

  it('rejects a size that is not a positive whole number and an unknown executor with CONFIG_INVALID naming the variable', () => {
    for (const [parallelism, variable] of [
      [{ tensorParallelSize: 0 }, 'NERION_VLLM_TENSOR_PARALLEL_SIZE'],
      [{ pipelineParallelSize: 1.5 }, 'NERION_VLLM_PIPELINE_PARALLEL_SIZE'],
      [{ dataParallelSize: -2 }, 'NERION_VLLM_DATA_PARALLEL_SIZE'],
      [{ distributedExecutorBackend: 'slurm' }, 'NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND'],
    ] as const) {
      const caught = thrown(() => vllmParallelismArguments(parallelism as VllmParallelism));
      expect(caught.code).toBe('CONFIG_INVALID');
      expect(caught.fix?.settings).toEqual([variable]);
      expect(caught.message).toContain(variable);
    }
  });
});
