import { BACKEND_IDS, type BackendId, type CoderBackend } from './coder-backend.js';
import { NerionError } from './errors.js';

/** Creates a backend for a model. Factories import their engine lazily, so registering costs nothing. */
export type BackendFactory<Context> = (model: string, context: Context) => Promise<CoderBackend>;

/**
 * Maps backend ids to lazy factories. The CLI registers the four packaged backends;
 * other tools can register their own or replace one (e.g. to inject settings).
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
    return BACKEND_IDS.filter((id) => this.factories.has(id));
  }

  async create(id: BackendId, model: string, context: Context): Promise<CoderBackend> {
    const factory = this.factories.get(id);
    if (!factory) {
      throw new NerionError(
        'CONFIG_INVALID',
        `No backend "${id}" is registered. Registered: ${this.ids().join(', ') || 'none'}.`,
        { data: { backend: id } },
      );
    }
    return factory(model, context);
  }
}
