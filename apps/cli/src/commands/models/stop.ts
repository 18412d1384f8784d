import { Flags } from '@oclif/core';
import { NerionCommand } from '../../base-command.js';

export interface StoppedServer {
  backend: 'vllm';
  pid: number;
  port: number;
  model: string;
  repo: string;
  logFile: string;
  /** false: the recorded process had already exited; its stale pid file was removed. */
  wasRunning: boolean;
  /** SIGTERM, or SIGKILL when it ignored SIGTERM for the grace period. */
  signal: string | null;
}

export interface StopResult {
  stopped: StoppedServer[];
}

export default class ModelsStop extends NerionCommand {
  static override summary = 'Stop the vLLM server that nerion autostarted (recorded in its pid file).';
  static override description = [
    'NERION_AUTOSTART_VLLM=1 starts `vllm serve` when nothing answers and leaves it running, so the next nerion reuses it.',
    'This command stops it: SIGTERM to its process group, SIGKILL after --grace seconds, then removes the pid file under $NERION_CACHE_DIR/run/.',
    'Servers you started yourself are never touched. With nothing recorded it reports an empty list and exits 0.',
  ].join('\n');
  static override examples = ['<%= config.bin %> models stop', '<%= config.bin %> models stop --port 8000 --json'];
  static override flags = {
    port: Flags.integer({
      summary: 'Stop only the server recorded for this port (default: every recorded one).',
      min: 1,
      max: 65535,
    }),
    grace: Flags.integer({ summary: 'Seconds to wait after SIGTERM before SIGKILL.', default: 15, min: 0 }),
  };

  async run(): Promise<StopResult> {
    const { flags } = await this.parse(ModelsStop);
    const config = this.resolveConfig();
    const { stopVllmServers } = await import('@nerion/backend-vllm');
    const stopped = await stopVllmServers({
      cacheDir: config.cacheDir,
      ...(flags.port === undefined ? {} : { port: flags.port }),
      graceMs: flags.grace * 1000,
    });
    const result: StopResult = {
      stopped: stopped.map((server) => ({
        backend: 'vllm',
        pid: server.pid,
        port: server.port,
        model: server.model,
        repo: server.repo,
        logFile: server.logFile,
        wasRunning: server.wasRunning,
        signal: server.signal ?? null,
      })),
    };
    if (!this.jsonEnabled()) {
      if (result.stopped.length === 0) {
        this.log(
          `No autostarted vLLM server is recorded${flags.port === undefined ? '' : ` for port ${flags.port}`} (pid files live in ${config.cacheDir}/run/).`,
        );
      }
      for (const server of result.stopped) {
        this.log(
          server.wasRunning
            ? `Stopped vLLM "${server.model}" (pid ${server.pid}, port ${server.port}) with ${server.signal}; log: ${server.logFile}`
            : `vLLM "${server.model}" (pid ${server.pid}, port ${server.port}) had already exited; removed its stale pid file.`,
        );
      }
    }
    return result;
  }
}
