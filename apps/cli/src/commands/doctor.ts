import { NerionError } from '@nerion/backend-core';
import { NerionCommand } from '../base-command.js';

export default class Doctor extends NerionCommand {
  static override summary = 'Check every backend: configured, reachable, model present, strict JSON works.';
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json'];

  async run(): Promise<void> {
    this.resolveConfig();
    throw new NerionError('NOT_AVAILABLE', '`nerion doctor` is not available in this build yet (issue #6).');
  }
}
