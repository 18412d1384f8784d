import { Flags } from '@oclif/core';
import { NerionError, terminalSafe } from '@nerion/backend-core';
import { NerionCommand } from '../base-command.js';
import { renderDoctorReport, runDoctor, type DoctorReport } from '../doctor-checks.js';

export default class Doctor extends NerionCommand {
  static override summary = 'Check every backend: configured, reachable, model present, strict JSON works.';
  static override description =
    'Each failing check prints the command that fixes it. Exits non-zero (3) when the selected backend is not usable; other backends are informational.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --json',
    'NERION_CODER_BACKEND=llama_cpp LLAMA_CPP_MODEL_PATH=./model.gguf <%= config.bin %> doctor',
  ];
  static override flags = {
    backend: Flags.string({ summary: 'The backend to treat as selected (overrides NERION_CODER_BACKEND).' }),
    model: Flags.string({ summary: 'The model to check (overrides NERION_CODER_MODEL).' }),
    timeout: Flags.integer({ summary: 'Seconds allowed for each strict-JSON check.', default: 20, min: 1 }),
  };

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor);
    const config = this.resolveConfig({ backend: flags.backend, model: flags.model });
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
