/**
 * The child of smokeTestLlamaBuild: loads the model on the given build, at 2 threads, generates a few tokens,
 * and prints `{completionTokens, bindings}` as its last line. Any crash ends this process only.
 */
import { createLlamaCppBackend } from './llama-cpp-backend.js';
import type { LlamaBuildSetting } from './llama-build.js';

const { modelPath, build } = JSON.parse(process.argv[2] ?? '{}') as { modelPath: string; build: LlamaBuildSetting };
const backend = createLlamaCppBackend({
  model: 'smoke-test',
  modelPath,
  gpu: false,
  threads: 2,
  contextSize: 512,
  llamaBuild: build,
});
try {
  const result = await backend.generate({ prompt: 'def add(a, b):\n', maxTokens: 8, temperature: 0 });
  const facts = (await backend.probe({ timeoutMs: 10_000 })).facts;
  process.stdout.write(
    `${JSON.stringify({ completionTokens: result.usage.completionTokens, bindings: facts?.bindings })}\n`,
  );
} finally {
  await backend.close();
}
