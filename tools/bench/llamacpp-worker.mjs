// One llama.cpp build's nerion backends in a process of their own, driven over IPC by
// llamacpp-vs-llamabench.mjs. Each build gets its own process because two llama.cpp builds in one process
// share libraries by soname (libggml-base.so): the second addon could run on the first one's ggml.
//
//   parent → {op: 'init', model, build, threadCounts, cacheDir}  ← {op: 'ready', facts}
//   parent → {op: 'run', label, prompt, maxTokens}               ← {op: 'result', pp, tg, promptTokens, completionTokens}
//   parent → {op: 'close'}                                        (exits)
import { createLlamaCppBackend } from '../../libs/backend-llamacpp/dist/index.js';

const backends = new Map();

process.on('message', async (message) => {
  try {
    if (message.op === 'init') {
      for (const threads of message.threadCounts)
        backends.set(
          `t=${threads}`,
          createLlamaCppBackend({
            model: `t${threads}`,
            modelPath: message.model,
            gpu: false,
            threads,
            llamaBuild: message.build,
          }),
        );
      // nerion's defaults: thread counts measured on this first load (a fresh cache dir), like a first `nerion plan`.
      const defaults = createLlamaCppBackend({
        model: 'default',
        modelPath: message.model,
        gpu: false,
        threadCacheDir: message.cacheDir,
        llamaBuild: message.build,
      });
      backends.set('default', defaults);
      const started = performance.now();
      await defaults.generate({ prompt: 'x'.repeat(16), maxTokens: 2, temperature: 0 });
      const facts = (await defaults.probe({ timeoutMs: 10_000 })).facts;
      const firstLoadSeconds = (performance.now() - started) / 1000;
      for (const [label, backend] of backends)
        if (label !== 'default') await backend.generate({ prompt: 'x'.repeat(16), maxTokens: 2, temperature: 0 });
      process.send({ op: 'ready', facts, firstLoadSeconds });
    } else if (message.op === 'run') {
      const result = await backends
        .get(message.label)
        .generate({ prompt: message.prompt, maxTokens: message.maxTokens, temperature: 0 });
      process.send({
        op: 'result',
        pp: result.timings.promptTokensPerSecond,
        tg: result.timings.decodeTokensPerSecond,
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        totalMs: result.timings.totalMs,
      });
    } else if (message.op === 'close') {
      for (const backend of backends.values()) await backend.close();
      process.exit(0);
    }
  } catch (error) {
    process.send({ op: 'error', message: String(error?.stack ?? error) });
  }
});
