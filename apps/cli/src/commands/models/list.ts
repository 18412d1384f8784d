import { NerionError } from '@nerion/backend-core';
import { NerionCommand } from '../../base-command.js';

export default class ModelsList extends NerionCommand {
  static override summary = 'List catalog families × backends, with what is installed or available now.';
  static override examples = ['<%= config.bin %> models list', '<%= config.bin %> models list --json'];

  async run(): Promise<void> {
    throw new NerionError('NOT_AVAILABLE', '`nerion models list` is not available in this build yet (issue #6).');
  }
}
