import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import nx from '@nx/eslint-plugin';
import { ensureProjectGraph, moduleBoundaries } from './tools/lint/module-boundaries.js';

ensureProjectGraph(import.meta.dirname);

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.nx/**',
      '.fixtures/**',
      'coverage/**',
      'tmp/**',
      // Evaluation fixtures: their exact text and line numbers are what the evaluation set checks.
      'libs/planner/eval/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        fetch: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        structuredClone: 'readonly',
      },
    },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The CLI's entry is CommonJS (apps/cli/bin/package.json): a plan-cache hit never starts the ES-module loader.
    files: ['apps/cli/bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Libraries take settings objects; only the CLI's environment module reads the process environment.
    files: ['libs/*/src/**/*.ts'],
    ignores: ['libs/*/src/**/*.spec.ts', 'libs/test-support/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Libraries never read process.env: take it from settings (the CLI resolves config once).',
        },
      ],
    },
  },
  {
    // Heavy engines load lazily inside the command that needs them (start-up stays fast).
    files: ['apps/cli/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'node-llama-cpp',
            'openai',
            'ollama',
            'undici',
            'tinybench',
            // A backend package's main entry loads its engine client; its `./settings` entry is light.
            '@nerion/backend-ollama',
            '@nerion/backend-vllm',
            '@nerion/backend-llamacpp',
            '@nerion/backend-exllama',
            '@nerion/backend-openai-compatible',
          ].map((name) => ({
            name,
            message: 'Import engines with await import() inside the command that needs them.',
            allowTypeImports: true,
          })),
        },
      ],
    },
  },
  {
    files: ['apps/cli/src/**/*.ts'],
    ignores: ['apps/cli/src/environment.ts', 'apps/cli/src/**/*.spec.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment only in apps/cli/src/environment.ts.' },
      ],
    },
  },
  // The arrows between packages (docs/architecture.md): tags in each package.json's `nx.tags`.
  { plugins: { '@nx': nx } },
  {
    files: ['libs/*/src/**/*.ts', 'apps/cli/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ tests: false })] },
  },
  {
    // Tests may also use test-support's stand-ins and a real engine.
    files: ['**/*.spec.ts', 'libs/*/test/**/*.ts', 'apps/cli/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries({ tests: true })] },
  },
  {
    // The fourth-party backend example is written against the open spec alone.
    files: ['docs/examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@nerion/(?!backend-core(/testing)?$)',
              message: 'A fourth-party backend depends on @nerion/backend-core (and its ./testing suite) only.',
            },
          ],
        },
      ],
    },
  },
  {
    // Type-aware rules for the shipped sources (libraries, CLI, the backend example). The tests
    // (*.spec.ts, libs/*/test/**, apps/cli/test/**, libs/test-support, which has no tsconfig of its own)
    // are type-checked by `tsc -p tsconfig.typecheck.json`.
    files: ['libs/*/src/**/*.ts', 'apps/cli/src/**/*.ts', 'docs/examples/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/test-support/**'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Each package's tsconfig.lib.json is found through its tsconfig.json; the example has none of its own.
        projectService: { allowDefaultProject: ['docs/examples/*/*.ts'], defaultProject: 'tsconfig.typecheck.json' },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Passing a rejection or abort reason on as it came (`signal.reason` is typed `any`) is right; a
      // literal non-Error is still reported.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // `async` without `await` is how an interface method (close, probe, an oclif hook) rejects instead of throwing.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Formatting is Prettier's (npm run format); eslint-config-prettier turns off the rules that would fight it.
  prettier,
);
