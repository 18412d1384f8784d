import type { BackendId, CoderBackend } from './coder-backend.js';
import { NerionError } from './errors.js';

/** Creates a backend for a model. Factories import their engine lazily, so registering costs nothing. */
export type BackendFactory<Context> = (model: string, context: Context) => Promise<CoderBackend>;

/**
 * Maps backend ids to lazy factories. Any id can be registered: the CLI registers the four packaged backends;
 * other tools can register their own (a fourth-party `acme`) or replace one (e.g. to inject settings).
 */
export class BackendRegistry<Context = void> {
  private readonly factories = new Map<BackendId, BackendFactory<Context>>();

  register(id: BackendId, factory: BackendFactory<Context>): this {
    this.factories.set(id, factory);
    return this;
  }

  has(id: BackendId): boolean {
    return this.factories.has(id);
  }

  ids(): BackendId[] {
    return [...this.factories.keys()];
  }

  async create(id: BackendId, model: string, context: Context): Promise<CoderBackend> {
    const factory = this.factories.get(id);
    if (!factory) {
      throw new NerionError(
        'CONFIG_INVALID',
        `No backend "${id}" is registered. Registered: ${this.ids().join(', ') || 'none'}.`,
        { data: { backend: id, registered: this.ids() } },
      );
    }
    return factory(model, context);
  }
}
