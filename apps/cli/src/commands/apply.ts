import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { NerionError, describeError } from '@nerion/backend-core';
import type { ApplyResult } from '@nerion/plan-apply';
import { NerionCommand } from '../base-command.js';
import { renderApplyResult, runApply } from '../apply-report.js';

export default class Apply extends NerionCommand {
  static override summary = 'Apply a plan to the repository: all of it, or nothing.';
  static override description =
    'Checks the plan (schema, bundle_id, clarification, the repository jail, preconditions), computes every edit in memory, writes each file atomically, then checks that the files parse and the postconditions hold; on any failure every file is restored. --diff prints the unified diff and writes nothing.';
  static override examples = [
    '<%= config.bin %> plan -i "add a function slugify to src/text.ts" > plan.json && <%= config.bin %> apply plan.json',
    '<%= config.bin %> plan -i "rename add to plus in app/calc.py" | <%= config.bin %> apply --diff -',
    '<%= config.bin %> apply plan.json --json',
  ];
  static override args = {
    plan: Args.string({
      description:
        'The plan file (JSON printed by `nerion plan`), or - to read it from stdin (the default when stdin is not a terminal).',
      // nerion reads stdin itself: oclif's own stdin read gives up after 10 ms and can lose a slow pipe.
      ignoreStdin: true,
    }),
  };
  static override flags = {
    diff: Flags.boolean({
      summary: 'Print the unified diff and write nothing.',
      aliases: ['dry-run'],
      default: false,
    }),
    force: Flags.boolean({ summary: 'Apply a plan that asks for clarification.', default: false }),
  };

  async run(): Promise<ApplyResult> {
    const { args, flags } = await this.parse(Apply);
    const source = args.plan ?? '-';
    if (source === '-' && args.plan === undefined && process.stdin.isTTY)
      throw new NerionError(
        'INVALID_REQUEST',
        'Name the plan to apply (`nerion apply plan.json`), pipe one in (`nerion plan -i … | nerion apply -`), or plan and apply at once with `nerion plan -i … --apply`.',
        { fix: { command: ['nerion', 'apply', 'plan.json'] } },
      );
    const text = await readPlan(source);
    if (text.trim() === '')
      throw new NerionError(
        'INVALID_REQUEST',
        `${source === '-' ? 'stdin' : source} is empty: pass the JSON plan printed by \`nerion plan\` (\`nerion plan -i … | nerion apply\`).`,
        { data: { source } },
      );
    const { parsePlanText } = await import('@nerion/plan-apply');
    const plan = parsePlanText(text, source === '-' ? 'stdin' : source);
    const { findRepoRoot } = await import('@nerion/plan-cache');
    const result = await runApply(
      {
        plan,
        root: findRepoRoot(process.cwd()).root,
        dryRun: flags.diff,
        force: flags.force,
        forceCommand: ['nerion', 'apply', '--force', source],
      },
      (message) => this.note(message),
    );
    if (!this.jsonEnabled()) {
      const rendered = renderApplyResult(result);
      for (const line of rendered.stderr) this.note(line);
      process.stdout.write(rendered.stdout);
    }
    return result;
  }
}

async function readPlan(source: string): Promise<string> {
  try {
    if (source !== '-') return await readFile(resolve(source), 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    throw new NerionError(
      'INVALID_REQUEST',
      `Cannot read the plan ${source === '-' ? 'from stdin' : source} (${describeError(error)}).`,
      { cause: error, data: { source } },
    );
  }
}
