/**
 * The vLLM stand-in as a process: accepts the arguments nerion's autostart gives `vllm serve`, so tests
 * can use it as the launch command:
 *
 *   node --import tsx libs/test-support/src/openai-server/main.ts serve <model.gguf> \
 *     --served-model-name <name> --host 127.0.0.1 --port <port>
 *
 * (`serve` is optional; `--model <path>` works like the positional, as with vLLM's api_server module.)
 * vLLM's --tensor-parallel-size, --pipeline-parallel-size, --data-parallel-size, --distributed-executor-backend
 * and --max-model-len are accepted and logged as a "parallel config" line. Stand-in-only options: --ignore-response-format, --die-mid-stream-after <chunks>,
 * --startup-delay-ms <ms>, --seed <n> (as vLLM's), --threads <n>, --context-size <n>, --version-string <text>.
 * It is NOT vLLM: a protocol-faithful server on node-llama-cpp, for tests only. SIGTERM/SIGINT stop it cleanly.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startOpenAICompatibleServer } from './openai-compatible-server.js';

function fail(message: string): never {
  process.stderr.write(`vllm-stand-in: error: ${message}\n`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string' },
        'served-model-name': { type: 'string', multiple: true },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8000' },
        'ignore-response-format': { type: 'boolean', default: false },
        'die-mid-stream-after': { type: 'string' },
        'startup-delay-ms': { type: 'string' },
        threads: { type: 'string' },
        seed: { type: 'string' },
        'context-size': { type: 'string' },
        'version-string': { type: 'string' },
        // vLLM's parallelism flags: accepted and logged (one process here serves everything).
        'tensor-parallel-size': { type: 'string' },
        'pipeline-parallel-size': { type: 'string' },
        'data-parallel-size': { type: 'string' },
        'distributed-executor-backend': { type: 'string' },
        'max-model-len': { type: 'string' },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();

const words = positionals[0] === 'serve' ? positionals.slice(1) : positionals;
if (words.length > 1) fail(`unexpected arguments: ${words.slice(1).join(' ')}`);
const modelPath = values.model ?? words[0];
if (!modelPath) fail('the model to serve is required: `serve <model.gguf>` or `--model <model.gguf>`');
if (!existsSync(modelPath)) fail(`cannot load model: ${modelPath} does not exist`);
const names = values['served-model-name'] ?? [modelPath];
const integer = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const number = Number(text);
  if (!Number.isInteger(number) || number < 0) fail(`--${name} must be a whole number, got "${text}"`);
  return number;
};

process.stdout.write(
  `INFO:     vLLM stand-in (nerion test support; not vLLM) pid ${process.pid}: serving ${modelPath} as ${names.join(', ')}\n`,
);
const executor = values['distributed-executor-backend'];
if (executor !== undefined && !['ray', 'mp', 'uni', 'external_launcher'].includes(executor))
  fail(`--distributed-executor-backend: invalid choice "${executor}"`);
process.stdout.write(
  `INFO:     parallel config: tensor_parallel_size=${integer('tensor-parallel-size', values['tensor-parallel-size']) ?? 1} pipeline_parallel_size=${integer('pipeline-parallel-size', values['pipeline-parallel-size']) ?? 1} data_parallel_size=${integer('data-parallel-size', values['data-parallel-size']) ?? 1} distributed_executor_backend=${executor ?? 'None'} max_model_len=${integer('max-model-len', values['max-model-len']) ?? 'auto'}\n`,
);
const server = await startOpenAICompatibleServer({
  models: Object.fromEntries(names.map((name) => [name, modelPath])),
  host: values.host,
  port: integer('port', values.port),
  ignoreResponseFormat: values['ignore-response-format'],
  dieMidStreamAfterChunks: integer('die-mid-stream-after', values['die-mid-stream-after']),
  startupDelayMs: integer('startup-delay-ms', values['startup-delay-ms']),
  threads: integer('threads', values.threads),
  seed: integer('seed', values.seed),
  contextSize: integer('context-size', values['context-size']),
  version: values['version-string'],
  log: (line) => process.stdout.write(`${line}\n`),
});

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`INFO:     ${signal}: shutting down\n`);
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`vllm-stand-in: error while stopping: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
