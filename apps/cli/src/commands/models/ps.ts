import { describeError, formatBytes } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';
import { NerionCommand } from '../../base-command.js';
import { baseUrlFor } from '../../catalog.js';

/** One model loaded or served now. */
export interface RunningModel {
  name: string;
  /** Bytes in memory (Ollama reports it). */
  sizeBytes?: number;
  /** When Ollama unloads it (ISO time). */
  expiresAt?: string;
  contextLength?: number;
  /** The vLLM server's process id, when nerion started it. */
  pid?: number;
}

/** One place a backend runs: an HTTP endpoint, or (llama_cpp, the exllamav2 bridge) none. */
export interface RunningEndpoint {
  url?: string;
  /** Whether something answered there (undefined: nothing to ask). */
  reachable?: boolean;
  models: RunningModel[];
  /** Why nothing is listed, or what kind of process this is. */
  note?: string;
}

export interface RunningBackend {
  backend: string;
  /** A list, so several replicas of one backend fit. */
  endpoints: RunningEndpoint[];
}

export interface PsResult {
  backends: RunningBackend[];
}

export default class ModelsPs extends NerionCommand {
  static override summary = 'Show what is loaded or running now, per backend.';
  static override description = [
    'ollama: the models the running Ollama has in memory (GET /api/ps), with size and when they unload.',
    'vllm: the servers nerion autostarted (pid files under $NERION_CACHE_DIR/run/) and what each serves.',
    'exllamav2: what a TabbyAPI server (NERION_CODER_BASE_URL with exllamav2 selected) serves (GET /v1/models).',
    'llama_cpp runs inside each nerion process, so nothing stays loaded between commands.',
  ].join('\n');
  static override examples = ['<%= config.bin %> models ps', '<%= config.bin %> models ps --json'];

  async run(): Promise<PsResult> {
    await this.parse(ModelsPs);
    const config = this.resolveConfig();
    const backends = await Promise.all([
      this.ollama(config),
      Promise.resolve<RunningBackend>({
        backend: 'llama_cpp',
        endpoints: [
          {
            models: [],
            note: 'in-process: llama.cpp loads the model inside each nerion command and frees it at exit; nothing stays loaded',
          },
        ],
      }),
      this.vllm(config),
      this.exllama(config),
    ]);
    const result: PsResult = { backends };
    if (!this.jsonEnabled()) this.render(result);
    return result;
  }

  private render(result: PsResult): void {
    const rows: string[][] = [['backend', 'model', 'where', 'size', 'until']];
    const notes: string[] = [];
    for (const backend of result.backends) {
      for (const endpoint of backend.endpoints) {
        for (const model of endpoint.models)
          rows.push([
            backend.backend,
            model.name,
            model.pid === undefined ? (endpoint.url ?? '-') : `${endpoint.url ?? '-'} (pid ${model.pid})`,
            model.sizeBytes === undefined ? '-' : formatBytes(model.sizeBytes),
            model.expiresAt ?? '-',
          ]);
        if (endpoint.note) notes.push(`${backend.backend}: ${endpoint.note}`);
      }
    }
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    for (const row of rows)
      this.log(
        row
          .map((cell, column) => cell.padEnd(widths[column]))
          .join('  ')
          .trimEnd(),
      );
    if (rows.length === 1) this.log('(nothing is loaded or running)');
    for (const note of notes) this.note(note);
  }

  private async ollama(config: NerionConfig): Promise<RunningBackend> {
    const url = baseUrlFor(config, 'ollama');
    const { listRunningOllamaModels } = await import('@nerion/backend-ollama');
    try {
      const models = await listRunningOllamaModels({ baseUrl: url }, { timeoutMs: 2000 });
      return {
        backend: 'ollama',
        endpoints: [
          {
            url,
            reachable: true,
            models: models.map((model) => ({
              name: model.name,
              sizeBytes: model.sizeBytes,
              ...(model.expiresAt ? { expiresAt: model.expiresAt } : {}),
              ...(model.contextLength ? { contextLength: model.contextLength } : {}),
            })),
            ...(models.length === 0 ? { note: `Ollama at ${url} has no model loaded` } : {}),
          },
        ],
      };
    } catch (error) {
      return {
        backend: 'ollama',
        endpoints: [{ url, reachable: false, models: [], note: `not running at ${url} (${describeError(error)})` }],
      };
    }
  }

  private async vllm(config: NerionConfig): Promise<RunningBackend> {
    const { listVllmServers } = await import('@nerion/backend-vllm');
    const { listOpenAICompatibleModels } = await import('@nerion/backend-openai-compatible');
    const servers = listVllmServers(config.cacheDir).filter((server) => server.alive);
    if (servers.length === 0)
      return {
        backend: 'vllm',
        endpoints: [
          { models: [], note: `no vLLM server started by nerion is running (pid files: ${config.cacheDir}/run/)` },
        ],
      };
    const endpoints = await Promise.all(
      servers.map(async (server): Promise<RunningEndpoint> => {
        try {
          const served = await listOpenAICompatibleModels({ baseUrl: server.baseUrl, timeoutMs: 2000 });
          return {
            url: server.baseUrl,
            reachable: true,
            models: served.map((name) => ({ name, pid: server.pid })),
          };
        } catch (error) {
          return {
            url: server.baseUrl,
            reachable: false,
            models: [{ name: server.model, pid: server.pid }],
            note: `pid ${server.pid} is running but ${server.baseUrl} does not answer yet (${describeError(error)}); log: ${server.logFile}`,
          };
        }
      }),
    );
    return { backend: 'vllm', endpoints };
  }

  private async exllama(config: NerionConfig): Promise<RunningBackend> {
    const url = config.backend === 'exllamav2' ? config.baseUrl : undefined;
    if (url === undefined)
      return {
        backend: 'exllamav2',
        endpoints: [
          {
            models: [],
            note: 'in-process Python bridge: it loads the model per nerion command; set NERION_CODER_BASE_URL (with exllamav2 selected) to see a TabbyAPI server',
          },
        ],
      };
    const { listOpenAICompatibleModels } = await import('@nerion/backend-openai-compatible');
    try {
      const served = await listOpenAICompatibleModels({ baseUrl: url, timeoutMs: 2000 });
      return { backend: 'exllamav2', endpoints: [{ url, reachable: true, models: served.map((name) => ({ name })) }] };
    } catch (error) {
      return {
        backend: 'exllamav2',
        endpoints: [
          { url, reachable: false, models: [], note: `TabbyAPI is not answering at ${url} (${describeError(error)})` },
        ],
      };
    }
  }
}
