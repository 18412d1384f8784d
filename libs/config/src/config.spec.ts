import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { thrown } from '@nerion/test-support';
import { defaultConfigFilePath, loadConfigFile, parseBoolean, resolveConfig } from './config.js';

const home = '/home/tester';

describe('resolveConfig', () => {
  it('defaults to ollama, deepseek-coder-v2, no base URL (the backend’s own default applies) and ~/.cache/nerion', () => {
    const config = resolveConfig({ env: {}, homeDir: home });
    expect(config.baseUrl).toBeUndefined();
    expect(config).toMatchObject({
      backend: 'ollama',
      model: 'deepseek-coder-v2',
      cacheDir: '/home/tester/.cache/nerion',
      allowNetwork: false,
      strict: false,
      jsonGrammar: false,
    });
    expect(config.sources).toMatchObject({ backend: 'default', model: 'default' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.llamaCpp)).toBe(true);
  });

  it('keeps no backend’s default URL (each backend package owns its own), and normalises a configured one', () => {
    expect(resolveConfig({ env: { NERION_CODER_BACKEND: 'vllm' }, homeDir: home }).baseUrl).toBeUndefined();
    expect(
      resolveConfig({
        env: { NERION_CODER_BACKEND: 'vllm', NERION_CODER_BASE_URL: 'http://127.0.0.1:9000/' },
        homeDir: home,
      }).baseUrl,
    ).toBe('http://127.0.0.1:9000');
    expect(resolveConfig({ env: { NERION_CODER_BACKEND: 'exllamav2' }, homeDir: home }).baseUrl).toBeUndefined();
  });

  it('accepts the backend aliases llamacpp and exllama', () => {
    expect(resolveConfig({ env: { NERION_CODER_BACKEND: 'llamacpp' } }).backend).toBe('llama_cpp');
    expect(resolveConfig({ env: { NERION_CODER_BACKEND: 'exllama' } }).backend).toBe('exllamav2');
  });

  it('lets a model prefix select the backend', () => {
    const config = resolveConfig({ env: { NERION_CODER_MODEL: 'vllm:qwen2.5-coder' } });
    expect(config).toMatchObject({ backend: 'vllm', model: 'qwen2.5-coder' });
    expect(config.sources.backend).toBe('env');
  });

  it('keeps Ollama tags intact: a colon is a prefix only after a backend name', () => {
    expect(resolveConfig({ env: { NERION_CODER_MODEL: 'qwen2.5-coder:7b' } })).toMatchObject({
      backend: 'ollama',
      model: 'qwen2.5-coder:7b',
    });
  });

  it('rejects a prefix that contradicts the backend variable at the same level, naming both', () => {
    const error = thrown(() =>
      resolveConfig({ env: { NERION_CODER_BACKEND: 'vllm', NERION_CODER_MODEL: 'ollama:x' } }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('NERION_CODER_BACKEND');
    expect(error.message).toContain('NERION_CODER_MODEL');
  });

  it('applies flag > env > file > auto > default', () => {
    const file = {
      path: '/etc/nerion.yaml',
      values: { NERION_CODER_BACKEND: 'vllm', NERION_CODER_MODEL: 'starcoder2', NERION_LLM_STRICT: true },
    };
    const auto = { backend: 'llama_cpp' as const, model: 'codellama', reasons: ['fits'] };
    expect(resolveConfig({ env: {}, file, auto })).toMatchObject({
      backend: 'vllm',
      model: 'starcoder2',
      strict: true,
    });
    expect(resolveConfig({ env: { NERION_CODER_BACKEND: 'ollama' }, file })).toMatchObject({
      backend: 'ollama',
      model: 'starcoder2',
    });
    expect(
      resolveConfig({
        env: { NERION_CODER_BACKEND: 'ollama' },
        flags: { backend: 'llama_cpp', model: 'codellama' },
        file,
      }),
    ).toMatchObject({
      backend: 'llama_cpp',
      model: 'codellama',
    });
    expect(resolveConfig({ env: { NERION_CODER_AUTO: '1' }, auto })).toMatchObject({
      backend: 'llama_cpp',
      model: 'codellama',
      autoSelection: auto,
    });
    // Auto only fills what nothing explicit chose.
    expect(resolveConfig({ env: { NERION_CODER_AUTO: '1', NERION_CODER_BACKEND: 'vllm' }, auto })).toMatchObject({
      backend: 'vllm',
      model: 'deepseek-coder-v2',
    });
    // Auto-selection is ignored while NERION_CODER_AUTO is off.
    expect(resolveConfig({ env: {}, auto }).backend).toBe('ollama');
  });

  it('parses booleans strictly: 0 is off, garbage is an error that names the variable', () => {
    expect(resolveConfig({ env: { NERION_ALLOW_NETWORK: '0' } }).allowNetwork).toBe(false);
    expect(resolveConfig({ env: { NERION_ALLOW_NETWORK: 'yes' } }).allowNetwork).toBe(true);
    expect(resolveConfig({ env: { NERION_ALLOW_NETWORK: '' } }).allowNetwork).toBe(false);
    const error = thrown(() => resolveConfig({ env: { NERION_LLM_STRICT: 'maybe' } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('NERION_LLM_STRICT');
    for (const word of ['1', 'true', 'YES', 'on']) expect(parseBoolean(word, 'X')).toBe(true);
    for (const word of ['0', 'false', 'No', 'off', '']) expect(parseBoolean(word, 'X')).toBe(false);
  });

  it('--yes grants network consent, and nothing else does implicitly', () => {
    expect(resolveConfig({ env: {}, flags: { yes: true } }).allowNetwork).toBe(true);
    expect(resolveConfig({ env: { NERION_CODER_AUTO: '1', NERION_AUTOSTART_EXL: '1' } }).allowNetwork).toBe(false);
  });

  it('NERION_LLAMA_BUILD: auto by default, prebuilt when asked, anything else refused naming both values', () => {
    expect(resolveConfig({ env: {} }).llamaCpp.build).toBe('auto');
    expect(resolveConfig({ env: { NERION_LLAMA_BUILD: 'Prebuilt' } }).llamaCpp.build).toBe('prebuilt');
    const error = thrown(() => resolveConfig({ env: { NERION_LLAMA_BUILD: 'openmp' } }));
    expect(error.message).toBe('NERION_LLAMA_BUILD must be "auto" or "prebuilt", got "openmp".');
    expect(error.fix).toEqual({ settings: ['NERION_LLAMA_BUILD'] });
  });

  it('rejects malformed URLs, checksums and thread counts with the fix in the message', () => {
    const badUrl = thrown(() => resolveConfig({ env: { NERION_CODER_BASE_URL: 'localhost:11434' } }));
    expect(badUrl.message).toContain('http://');
    expect(badUrl.fix).toEqual({ settings: ['NERION_CODER_BASE_URL'] });
    expect(thrown(() => resolveConfig({ env: { NERION_LLAMA_THREADS: 'x' } })).fix).toEqual({
      settings: ['NERION_LLAMA_THREADS'],
    });
    expect(thrown(() => resolveConfig({ env: { NERION_CODER_BACKEND: 'tgi' } })).fix).toEqual({
      settings: ['NERION_CODER_BACKEND'],
    });
    expect(thrown(() => resolveConfig({ env: { LLAMA_CPP_MODEL_SHA256: 'abc' } })).message).toContain('64 hexadecimal');
    expect(thrown(() => resolveConfig({ env: { NERION_LLAMA_THREADS: '0' } })).message).toContain(
      'NERION_LLAMA_THREADS',
    );
    expect(thrown(() => resolveConfig({ env: { NERION_CODER_BACKEND: 'tgi' } })).message).toContain(
      'ollama, llama_cpp, vllm, exllamav2',
    );
  });

  it('resolves paths against cwd and ~', () => {
    const config = resolveConfig({
      env: { LLAMA_CPP_MODEL_PATH: 'models/a.gguf', NERION_CACHE_DIR: '~/c' },
      cwd: '/repo',
      homeDir: home,
    });
    expect(config.llamaCpp.modelPath).toBe('/repo/models/a.gguf');
    expect(config.cacheDir).toBe('/home/tester/c');
  });

  it('splits NERION_VLLM_COMMAND into words without a shell', () => {
    expect(
      resolveConfig({ env: { NERION_VLLM_COMMAND: 'python -m "vllm.entrypoints.openai.api_server"' } }).vllm.command,
    ).toEqual(['python', '-m', 'vllm.entrypoints.openai.api_server']);
  });

  it('splits NERION_VLLM_COMMAND with the shell-words parser NERION_VLLM_EXTRA_ARGS uses: quotes inside a word, escapes', () => {
    const command = (value: string): readonly string[] | undefined =>
      resolveConfig({ env: { NERION_VLLM_COMMAND: value } }).vllm.command;
    // A naive split on spaces and whole-word quotes would cut these apart or keep the quotes.
    expect(
      command(`"/opt/my venv/bin/python" -m vllm.entrypoints.openai.api_server --chat-template='/m/my t.jinja'`),
    ).toEqual(['/opt/my venv/bin/python', '-m', 'vllm.entrypoints.openai.api_server', '--chat-template=/m/my t.jinja']);
    expect(command('/opt/my\\ venv/bin/vllm serve')).toEqual(['/opt/my venv/bin/vllm', 'serve']);
    expect(command(`vllm serve --x '$HOME'`)).toEqual(['vllm', 'serve', '--x', '$HOME']);
  });

  it('refuses shell operators in NERION_VLLM_COMMAND (it is never run by a shell)', () => {
    for (const value of ['vllm serve; rm -rf ~', 'vllm serve | tee log', 'vllm serve && x', 'vllm serve > log']) {
      const error = thrown(() => resolveConfig({ env: { NERION_VLLM_COMMAND: value } }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.fix?.settings).toEqual(['NERION_VLLM_COMMAND']);
      expect(error.message).toContain('never run by a shell');
    }
  });
});

describe('NERION_PLAN_MAX_TOKENS', () => {
  it('is read from the environment, overridden by plan --max-tokens, and must be a positive whole number', () => {
    expect(resolveConfig({ env: {}, homeDir: home }).planMaxTokens).toBeUndefined();
    const fromEnv = resolveConfig({ env: { NERION_PLAN_MAX_TOKENS: '3000' }, homeDir: home });
    expect(fromEnv.planMaxTokens).toBe(3000);
    expect(fromEnv.sources.NERION_PLAN_MAX_TOKENS).toBe('env');
    const fromFlag = resolveConfig({
      env: { NERION_PLAN_MAX_TOKENS: '3000' },
      flags: { planMaxTokens: 4096 },
      homeDir: home,
    });
    expect(fromFlag.planMaxTokens).toBe(4096);
    expect(fromFlag.sources.NERION_PLAN_MAX_TOKENS).toBe('flag');
    const bad = thrown(() => resolveConfig({ env: { NERION_PLAN_MAX_TOKENS: 'lots' }, homeDir: home }));
    expect(bad.fix?.settings).toEqual(['NERION_PLAN_MAX_TOKENS']);
  });
});

describe('config file', () => {
  it('finds the file through NERION_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    expect(defaultConfigFilePath({ NERION_CONFIG: '/x/n.yaml' }, home)).toBe('/x/n.yaml');
    expect(defaultConfigFilePath({ XDG_CONFIG_HOME: '/xdg' }, home)).toBe('/xdg/nerion/config.yaml');
    expect(defaultConfigFilePath({}, home)).toBe('/home/tester/.config/nerion/config.yaml');
  });

  it('reads variable names as keys; a missing file is no config; errors name the file and line', () => {
    const directory = mkdtempSync(join(tmpdir(), 'nerion-config-'));
    try {
      expect(loadConfigFile(join(directory, 'missing.yaml'))).toBeUndefined();
      const good = join(directory, 'good.yaml');
      writeFileSync(good, 'NERION_CODER_BACKEND: vllm\nNERION_LLM_STRICT: true\n');
      expect(loadConfigFile(good)?.values).toEqual({ NERION_CODER_BACKEND: 'vllm', NERION_LLM_STRICT: true });
      const unknown = join(directory, 'unknown.yaml');
      writeFileSync(unknown, '# settings\nNERION_CODER_MODEL: qwen2.5-coder\nNERION_CODER_BACKNED: vllm\n');
      const typo = thrown(() => loadConfigFile(unknown));
      // The file and line of the key, and the nearest known key as a suggestion (and as fix data).
      expect(typo.message).toContain(
        `${unknown}:3: unknown key "NERION_CODER_BACKNED". Did you mean NERION_CODER_BACKEND?`,
      );
      expect(typo.data).toMatchObject({ line: 3, key: 'NERION_CODER_BACKNED', suggestions: ['NERION_CODER_BACKEND'] });
      expect(typo.fix).toEqual({ settings: ['NERION_CODER_BACKEND'] });
      const nothingNear = join(directory, 'far.yaml');
      writeFileSync(nothingNear, 'colour: red\n');
      const far = thrown(() => loadConfigFile(nothingNear));
      expect(far.message).toContain(`${nothingNear}:1: unknown key "colour". Known keys:`);
      expect(far.data.suggestions).toBeUndefined();
      const broken = join(directory, 'broken.yaml');
      writeFileSync(broken, 'NERION_CODER_BACKEND: vllm\n  bad: [\n');
      const error = thrown(() => loadConfigFile(broken));
      expect(error.message).toContain(broken);
      expect(error.data.line).toBeGreaterThan(0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
