import { Flags } from '@oclif/core';
import { NerionError, terminalSafe } from '@nerion/backend-core';
import { NerionCommand } from '../base-command.js';
import type { BuildLlamaReport } from '../build-llama.js';
import { renderDoctorReport, runDoctor, type DoctorReport } from '../doctor-checks.js';

export default class Doctor extends NerionCommand {
  static override summary = 'Check every backend: configured, reachable, model present, strict JSON works.';
  static override description =
    'Each failing check prints the command that fixes it. Exits non-zero (3) when the selected backend is not usable; other backends are informational.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --json',
    'NERION_CODER_BACKEND=llama_cpp LLAMA_CPP_MODEL_PATH=./model.gguf <%= config.bin %> doctor',
    '<%= config.bin %> doctor --build-llama',
  ];
  static override flags = {
    backend: Flags.string({ summary: 'The backend to treat as selected (overrides NERION_CODER_BACKEND).' }),
    model: Flags.string({ summary: 'The model to check (overrides NERION_CODER_MODEL).' }),
    timeout: Flags.integer({ summary: 'Seconds allowed for each strict-JSON check.', default: 20, min: 1 }),
    'build-llama': Flags.boolean({
      summary:
        'Build llama.cpp from node-llama-cpp’s bundled source with nerion’s threadpool patch (opt-in; 10–60 minutes), then check.',
      description:
        'Needs cmake and a C++ compiler on PATH; downloads nothing. The build is used by llama_cpp from then on (NERION_LLAMA_BUILD=prebuilt goes back). See docs/decisions/0005-llama-threadpool-patch.md.',
    }),
    yes: Flags.boolean({ char: 'y', summary: 'With --build-llama: start the build without asking.' }),
  };

  async run(): Promise<DoctorReport | BuildLlamaReport> {
    const { flags } = await this.parse(Doctor);
    const config = this.resolveConfig({ backend: flags.backend, model: flags.model });
    if (flags['build-llama']) {
      const { runBuildLlama } = await import('../build-llama.js');
      return runBuildLlama(config, { yes: flags.yes, log: (line) => this.logToStderr(line) });
    }
    const report = await runDoctor(config, { timeoutMs: flags.timeout * 1000 });
    if (!this.jsonEnabled()) this.log(renderDoctorReport(report));
    const selected = report.backends.find((backend) => backend.selected);
    if (selected && !selected.usable) {
      const failed = selected.checks.find((check) => check.ok === false);
      const error = new NerionError(
        'NOT_AVAILABLE',
        `The selected backend ${selected.backend} is not usable: ${failed?.check}: ${failed?.detail}${failed?.fix ? ` Fix: ${failed.fix}` : ''}`,
        {
          data: { report },
        },
      );
      if (this.jsonEnabled()) {
        // The report is the useful document: oclif prints the returned report; the status says it failed.
        process.stderr.write(`${terminalSafe(`Error [${error.code}]: ${error.message}`)}\n`);
        process.exitCode = 3;
        return report;
      }
      throw error;
    }
    return report;
  }
}
