import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';
import { runCli } from './run-cli.js';

/**
 * Every `nerion …` line in a shell block of docs/*.md, the top README and the package READMEs: the command
 * exists and takes each flag shown (checked against its --help), and the ones that need no engine, server or
 * network run for real against a temporary repository with the documented exit status.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Example {
  file: string;
  line: string;
  env: Record<string, string>;
  argv: string[];
}

/** Words of a command line, as a POSIX shell splits them for these simple lines (quotes group). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g))
    out.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? match[3]!));
  return out;
}

function documentedExamples(): Example[] {
  const files = [
    ...readdirSync(join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
    'README.md',
    ...readdirSync(join(ROOT, 'libs'))
      .map((name) => `libs/${name}/README.md`)
      .filter((path) => existsSync(join(ROOT, path))),
    ...(existsSync(join(ROOT, 'apps/cli/README.md')) ? ['apps/cli/README.md'] : []),
  ];
  const examples: Example[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const block of text.matchAll(/```(?:bash|sh|shell|console)?\n([\s\S]*?)```/g)) {
      for (const raw of block[1]!.replace(/\\\n\s*/g, ' ').split('\n')) {
        // Each `&&`-separated command, without its trailing comment; one line may be "a  # or: b".
        const withoutComment = raw.replace(/\s+#.*$/u, '').trim();
        for (const part of withoutComment.split('&&').map((piece) => piece.trim())) {
          const tokens = words(part.replace(/^\$\s+/, ''));
          const env: Record<string, string> = {};
          while (tokens.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(tokens[0]!)) {
            const [name, ...value] = tokens.shift()!.split('=');
            env[name!] = value.join('=');
          }
          if (tokens[0] === 'npx') tokens.shift();
          if (tokens[0] !== 'nerion') continue;
          examples.push({ file, line: part, env, argv: tokens.slice(1) });
        }
      }
    }
  }
  return examples;
}

/** Commands the docs misspell on purpose (to show the did-you-mean answer). */
const MISSPELT = new Set(['doctr', 'models lst']);

/** `nerion …` in inline code (command tables, prose): checked for the command and its flags only. */
function inlineCommands(): Example[] {
  const found: Example[] = [];
  for (const name of readdirSync(join(ROOT, 'docs')).filter((entry) => entry.endsWith('.md'))) {
    const text = readFileSync(join(ROOT, 'docs', name), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const match of text.matchAll(/`(?:npx )?nerion ([^`]+)`/g)) {
      // Placeholders and alternatives (`[--runs N]`, `list|ensure`, `…`) are kept as words; only flags matter.
      const argv = words(match[1]!.replace(/[[\]]/g, ' '));
      if (argv[0]?.includes('|') || argv[1]?.includes('|')) continue;
      // The did-you-mean examples misspell a command on purpose.
      if (MISSPELT.has(argv.slice(0, argv[0] === 'models' ? 2 : 1).join(' '))) continue;
      found.push({ file: `docs/${name}`, line: `nerion ${match[1]}`, env: {}, argv });
    }
  }
  return found;
}

const examples = documentedExamples();
const mentioned = [...examples, ...inlineCommands()];

/** The command id (`models bench`) and the long flags an example uses. */
function commandOf(argv: readonly string[]): { id: string[]; flags: string[] } {
  const first = argv.findIndex((word) => word.startsWith('-'));
  const head = first === -1 ? [...argv] : argv.slice(0, first);
  const id = head[0] === 'models' ? head.slice(0, 2) : head.slice(0, 1);
  const flags = argv
    .filter((word) => word.startsWith('--'))
    .flatMap((word) => word.split('=')[0]!.split('/'))
    .filter((word) => word.startsWith('--'));
  return { id, flags };
}

/** Examples that run for real: no model, no server to start, no download, no signal to send. */
function runsOffline(example: Example): boolean {
  const { id } = commandOf(example.argv);
  if (example.argv.includes('--llm') || Object.keys(example.env).length > 0) return false;
  return ['plan', 'apply', 'doctor', 'models list', '', 'help'].includes(id.join(' '));
}

describe('the examples in the docs', () => {
  let repo: string;
  let home: string;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'nerion-docs-home-'));
    repo = mkdtempSync(join(tmpdir(), 'nerion-docs-repo-'));
    const files: Record<string, string> = {
      'src/text.ts': 'export function words(text: string): string[] {\n  return text.split(/\\s+/);\n}\n',
      'src/config.py': 'def parse(text):\n    return dict(line.split("=", 1) for line in text.splitlines())\n',
      'src/app.py': 'def main():\n    pass\n',
      'app/calc.py': 'import os\n\n\ndef add(a, b):\n    return a + b\n',
      'app/main.py': 'from app.calc import add\n\nprint(add(1, 2))\n',
      'calc.py': 'def add(a, b):\n    return a + b\n',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, path)), { recursive: true });
      writeFileSync(join(repo, path), content);
    }
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
    git('init', '-q');
    git('add', '.');
    git('-c', 'user.name=docs', '-c', 'user.email=docs@example.invalid', 'commit', '-qm', 'docs examples');
  });

  afterAll(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it('finds the documented examples (the quickstart, plan, models, doctor, bench)', () => {
    const ids = new Set(examples.map((example) => commandOf(example.argv).id.join(' ')));
    for (const id of ['plan', 'apply', 'doctor', 'models list', 'models ensure', 'models bench', 'models stop'])
      expect(ids).toContain(id);
  });

  it('every documented command exists and takes every flag it is shown with', async () => {
    // The CLI's own command and flag definitions (oclif), aliases included (`--dry-run` is `--diff`'s).
    const config = await Config.load(join(ROOT, 'apps', 'cli'));
    const problems: string[] = [];
    for (const example of mentioned) {
      const { id, flags } = commandOf(example.argv);
      if (id.length === 0) continue;
      const command = config.findCommand(id.join(':'));
      if (!command) {
        problems.push(`${example.file}: \`${example.line}\`: no command "${id.join(' ')}"`);
        continue;
      }
      const known = new Set<string>(['--help', ...(command.enableJsonFlag ? ['--json'] : [])]);
      for (const [name, flag] of Object.entries(command.flags)) {
        known.add(`--${name}`);
        for (const alias of flag.aliases ?? []) known.add(`--${alias}`);
        if (flag.type === 'boolean' && flag.allowNo) known.add(`--no-${name}`);
      }
      for (const flag of flags.flatMap((word) => word.split('/')))
        if (!known.has(flag)) problems.push(`${example.file}: \`${example.line}\`: "${id.join(' ')}" has no ${flag}`);
    }
    expect(problems).toEqual([]);
  }, 300_000);

  it('every NERION_* variable the docs name is one nerion reads (the resolver, the CLI, or a tool)', () => {
    const docs = [
      ...readdirSync(join(ROOT, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => `docs/${name}`),
      'README.md',
    ];
    const named = new Set<string>();
    for (const file of docs)
      for (const match of readFileSync(join(ROOT, file), 'utf8').matchAll(/\bNERION_[A-Z0-9_]*[A-Z0-9]\b/g))
        named.add(match[0]);
    // Not variables: a code constant, and the misspelt key the unknown-key example shows.
    for (const word of ['NERION_ERROR_CODES', 'NERION_CODER_BACKNED']) named.delete(word);
    const sources = [
      readFileSync(join(ROOT, 'libs/config/src/config.ts'), 'utf8'),
      readFileSync(join(ROOT, 'apps/cli/src/environment.ts'), 'utf8'),
      ...readdirSync(join(ROOT, 'tools/bench'))
        .filter((name) => /\.(mjs|ts)$/.test(name))
        .map((name) => readFileSync(join(ROOT, 'tools/bench', name), 'utf8')),
    ].join('\n');
    expect([...named].filter((name) => !sources.includes(`'${name}'`) && !sources.includes(name))).toEqual([]);
  });

  it('the ones that need no engine, server or network run with the documented exit status', async () => {
    const ran: string[] = [];
    // `apply plan.json` applies a plan saved from the quickstart's planner.
    const saved = await runCli(['plan', '-i', 'add a function slugify to src/text.ts', '--no-cache'], {
      cwd: repo,
      env: { HOME: home },
    });
    writeFileSync(join(repo, 'plan.json'), saved.stdout);
    for (const example of examples.filter(runsOffline)) {
      const run = await runCli(example.argv, {
        cwd: repo,
        env: { HOME: home, NERION_CACHE_DIR: join(home, 'cache') },
        timeoutMs: 120_000,
      });
      const { id } = commandOf(example.argv);
      // doctor exits 3 when no backend is usable here (docs/cli.md: exit statuses); everything else succeeds.
      const expected = id[0] === 'doctor' ? [0, 3] : [0];
      if (!expected.includes(run.status ?? -1))
        ran.push(`${example.file}: \`${example.line}\` exited ${run.status}: ${run.stderr.slice(0, 300)}`);
      if (id[0] === 'plan' && !example.argv.includes('--diff') && !example.argv.includes('--apply'))
        expect(JSON.parse(run.stdout)).toHaveProperty('actions');
      // Undo what an example wrote, so the next one sees the documented starting files.
      execFileSync('git', ['checkout', '-q', '--', '.'], { cwd: repo, stdio: 'ignore' });
      rmSync(join(repo, '.nerion'), { recursive: true, force: true });
    }
    expect(ran).toEqual([]);
  }, 300_000);
});
