import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { thrown } from '@nerion/test-support';
import { parseArgumentList } from './argument-list.js';
import { loadConfigFile, resolveConfig } from './config.js';

const OLLAMA = 'http://127.0.0.1:11435';
const VLLM = 'http://127.0.0.1:8001';

describe('one endpoint per backend', () => {
  it('each HTTP backend reads its own variable; unset means the backend’s default', () => {
    const config = resolveConfig({
      env: {
        NERION_OLLAMA_BASE_URL: `${OLLAMA}/`,
        NERION_VLLM_BASE_URL: VLLM,
        NERION_EXL_BASE_URL: 'http://gpu1:5000',
      },
    });
    expect(config.endpoints).toEqual({ ollama: [OLLAMA], vllm: [VLLM], exllamav2: ['http://gpu1:5000'] });
    expect(config.baseUrl).toBe(OLLAMA); // the selected backend (ollama by default)
    expect(config.sources).toMatchObject({ NERION_OLLAMA_BASE_URL: 'env', NERION_VLLM_BASE_URL: 'env' });
    expect(resolveConfig({ env: {} }).endpoints).toEqual({ ollama: undefined, vllm: undefined, exllamav2: undefined });
    // An empty value is unset, as for every variable.
    expect(resolveConfig({ env: { NERION_CODER_BASE_URL: '', NERION_VLLM_BASE_URL: ' ' } }).endpoints).toEqual({
      ollama: undefined,
      vllm: undefined,
      exllamav2: undefined,
    });
  });

  it('NERION_CODER_BASE_URL applies to the selected backend only, and wins a tie with its own variable', () => {
    const env = { NERION_CODER_BASE_URL: OLLAMA, NERION_VLLM_BASE_URL: VLLM };
    expect(resolveConfig({ env }).endpoints).toMatchObject({ ollama: [OLLAMA], vllm: [VLLM] });
    const vllmSelected = resolveConfig({ env: { ...env, NERION_CODER_BACKEND: 'vllm' } });
    expect(vllmSelected.endpoints).toMatchObject({ ollama: undefined, vllm: [OLLAMA] });
    expect(vllmSelected.baseUrl).toBe(OLLAMA);
    // --base-url (a flag) outranks both.
    expect(resolveConfig({ env, flags: { backend: 'vllm', baseUrl: 'http://flag:1' } }).endpoints.vllm).toEqual([
      'http://flag:1',
    ]);
  });

  it('precedence by source: an own variable in the environment beats NERION_CODER_BASE_URL in the config file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'nerion-endpoints-'));
    try {
      const path = join(directory, 'config.yaml');
      writeFileSync(path, `NERION_CODER_BACKEND: vllm\nNERION_CODER_BASE_URL: http://file:8000\n`);
      const file = loadConfigFile(path)!;
      expect(resolveConfig({ env: { NERION_VLLM_BASE_URL: VLLM }, file }).endpoints.vllm).toEqual([VLLM]);
      expect(resolveConfig({ env: {}, file }).endpoints.vllm).toEqual(['http://file:8000']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('a bench combination (`combination: true`) keeps NERION_CODER_BASE_URL on the backend the user selected', () => {
    const env = { NERION_CODER_BASE_URL: OLLAMA, NERION_VLLM_BASE_URL: VLLM };
    const asVllm = resolveConfig({ env, flags: { backend: 'vllm', model: 'qwen2.5-coder', combination: true } });
    expect(asVllm.backend).toBe('vllm');
    expect(asVllm.endpoints).toMatchObject({ ollama: [OLLAMA], vllm: [VLLM] });
    expect(asVllm.baseUrl).toBe(VLLM);
    // The same flags without `combination` are the user's own --backend: the generic URL follows it.
    expect(resolveConfig({ env, flags: { backend: 'vllm' } }).endpoints.vllm).toEqual([OLLAMA]);
  });

  it('a comma-separated list is a set of replicas; empty, repeated or credential-carrying entries are CONFIG_INVALID', () => {
    expect(
      resolveConfig({ env: { NERION_VLLM_BASE_URL: ` ${VLLM}, http://gpu2:8000/ ,http://gpu3:8000` } }).endpoints.vllm,
    ).toEqual([VLLM, 'http://gpu2:8000', 'http://gpu3:8000']);
    const empty = thrown(() => resolveConfig({ env: { NERION_VLLM_BASE_URL: ' , ' } }));
    expect(empty.fix?.settings).toEqual(['NERION_VLLM_BASE_URL']);
    const repeated = thrown(() => resolveConfig({ env: { NERION_OLLAMA_BASE_URL: `${OLLAMA},${OLLAMA}/` } }));
    expect(repeated.message).toContain('more than once');
    const secret = thrown(() =>
      resolveConfig({ env: { NERION_VLLM_BASE_URL: `${VLLM},http://user:hunter2@gpu9:8000` } }),
    );
    expect(secret.code).toBe('CONFIG_INVALID');
    expect(secret.fix?.settings).toEqual(['NERION_VLLM_BASE_URL']);
    expect(secret.message).not.toContain('hunter2');
    expect(JSON.stringify(secret.data)).not.toContain('hunter2');
    // The server root: a query never reaches a message.
    expect(resolveConfig({ env: { NERION_VLLM_BASE_URL: 'http://gpu1:8000/?token=abc' } }).endpoints.vllm).toEqual([
      'http://gpu1:8000',
    ]);
    const notUrl = thrown(() => resolveConfig({ env: { NERION_EXL_BASE_URL: 'gpu1:5000' } }));
    expect(notUrl.fix?.settings).toEqual(['NERION_EXL_BASE_URL']);
  });

  it('OLLAMA_HOST is passed on as written (read in Ollama’s forms by the Ollama backend’s settings)', () => {
    expect(resolveConfig({ env: { OLLAMA_HOST: ' 0.0.0.0:11435 ' } }).ollamaHost).toBe('0.0.0.0:11435');
    expect(resolveConfig({ env: {} }).ollamaHost).toBeUndefined();
  });

  it('the config file takes a YAML list for the base URLs and the extra arguments, and only for them', () => {
    const directory = mkdtempSync(join(tmpdir(), 'nerion-endpoints-'));
    try {
      const path = join(directory, 'config.yaml');
      writeFileSync(
        path,
        `NERION_VLLM_BASE_URL:\n  - ${VLLM}\n  - http://gpu2:8000\nNERION_VLLM_EXTRA_ARGS: [--max-model-len, 8192, --enforce-eager]\n`,
      );
      const config = resolveConfig({ env: {}, file: loadConfigFile(path)! });
      expect(config.endpoints.vllm).toEqual([VLLM, 'http://gpu2:8000']);
      expect(config.vllm.extraArgs).toEqual(['--max-model-len', '8192', '--enforce-eager']);
      writeFileSync(path, `NERION_CODER_MODEL: [a, b]\n`);
      expect(thrown(() => loadConfigFile(path)).message).toContain('NERION_CODER_MODEL must be a string');
      writeFileSync(path, `NERION_VLLM_BASE_URL: [{url: x}]\n`);
      expect(thrown(() => loadConfigFile(path)).message).toContain('or a list of them');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('vLLM parallelism and extra arguments', () => {
  it('reads the parallel sizes as positive whole numbers and the executor as written', () => {
    const config = resolveConfig({
      env: {
        NERION_VLLM_TENSOR_PARALLEL_SIZE: '4',
        NERION_VLLM_PIPELINE_PARALLEL_SIZE: '2',
        NERION_VLLM_DATA_PARALLEL_SIZE: '1',
        NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND: 'ray',
      },
    });
    expect(config.vllm.parallelism).toEqual({
      tensorParallelSize: 4,
      pipelineParallelSize: 2,
      dataParallelSize: 1,
      distributedExecutorBackend: 'ray',
    });
    expect(resolveConfig({ env: {} }).vllm.parallelism).toEqual({});
    const bad = thrown(() => resolveConfig({ env: { NERION_VLLM_TENSOR_PARALLEL_SIZE: 'two' } }));
    expect(bad.fix?.settings).toEqual(['NERION_VLLM_TENSOR_PARALLEL_SIZE']);
  });

  it('NERION_VLLM_EXTRA_ARGS is split into words by a shell-words parser and never run by a shell', () => {
    expect(
      resolveConfig({
        env: { NERION_VLLM_EXTRA_ARGS: `--max-model-len 8192 --chat-template "/models/my template.jinja" --x '$HOME'` },
      }).vllm.extraArgs,
    ).toEqual(['--max-model-len', '8192', '--chat-template', '/models/my template.jinja', '--x', '$HOME']);
    expect(parseArgumentList('--served-model-name $NAME', 'X')).toEqual(['--served-model-name', '$NAME']);
    for (const value of ['--a 1; rm -rf ~', '--a 1 | tee log', '--a $(whoami) && x', '--out > file', '--glob *.json']) {
      const error = thrown(() => resolveConfig({ env: { NERION_VLLM_EXTRA_ARGS: value } }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.fix?.settings).toEqual(['NERION_VLLM_EXTRA_ARGS']);
      expect(error.message).toContain('never run by a shell');
    }
    expect(resolveConfig({ env: { NERION_VLLM_EXTRA_ARGS: '  ' } }).vllm.extraArgs).toBeUndefined();
  });
});
