import type { GenerateRequest } from '@nerion/backend-core';

/**
 * Ollama's default context window is small (2048 tokens, 4096 on newer versions) and a longer prompt is
 * silently cut from the front. The backend therefore always sends `options.num_ctx`, sized for the prompt
 * plus the requested output. Sizes come from a fixed ladder, because every different `num_ctx` makes
 * Ollama reload the model: stepping in powers of two keeps reloads rare.
 */
export const CONTEXT_LADDER = [2048, 4096, 8192, 16_384, 32_768, 65_536, 131_072] as const;

/** Chat templates add a few tokens per message (role markers) and around the conversation. */
const TOKENS_PER_MESSAGE = 8;
const TEMPLATE_TOKENS = 32;

/**
 * A generous estimate of the prompt's token count without a tokenizer: one token per two UTF-8 bytes
 * (code tokenizers average three to four bytes per token), plus the chat template's markers.
 * After the reply, `prompt_eval_count` tells the real number; see `contextWarning`.
 */
export function estimatePromptTokens(request: Pick<GenerateRequest, 'messages' | 'prompt'>): number {
  if (request.prompt !== undefined) return Math.ceil(Buffer.byteLength(request.prompt, 'utf8') / 2);
  const messages = request.messages ?? [];
  let bytes = 0;
  for (const message of messages) bytes += Buffer.byteLength(message.content, 'utf8');
  return Math.ceil(bytes / 2) + messages.length * TOKENS_PER_MESSAGE + TEMPLATE_TOKENS;
}

export interface ContextWindowSettings {
  /** A fixed `num_ctx` for every request (no estimate). */
  contextLength?: number;
  /** The smallest `num_ctx` sent (default 2048). */
  minContextLength?: number;
  /** The largest `num_ctx` sent (default 131072; Ollama also clamps to the model's own limit). */
  maxContextLength?: number;
}

/** The `num_ctx` to send: the fixed setting, or the smallest ladder step that holds prompt + output. */
export function chooseContextLength(
  promptTokens: number,
  maxTokens: number,
  settings: ContextWindowSettings = {},
): number {
  if (settings.contextLength !== undefined) return settings.contextLength;
  const minimum = settings.minContextLength ?? CONTEXT_LADDER[0];
  const maximum = settings.maxContextLength ?? CONTEXT_LADDER[CONTEXT_LADDER.length - 1];
  const needed = Math.max(minimum, promptTokens + maxTokens);
  const step = CONTEXT_LADDER.find((size) => size >= needed) ?? needed;
  return Math.min(step, maximum);
}

/** A warning when the window may not have held the prompt and the output (so Ollama may have cut the prompt). */
export function contextWarning(
  numCtx: number,
  estimatedPromptTokens: number,
  maxTokens: number,
  promptEvalCount: number | undefined,
  evalCount: number | undefined,
): string | undefined {
  if (estimatedPromptTokens + maxTokens > numCtx) {
    return `The prompt (about ${estimatedPromptTokens} tokens) plus maxTokens (${maxTokens}) exceed num_ctx ${numCtx}; Ollama drops the start of a prompt that does not fit. Raise contextLength/maxContextLength or shorten the prompt.`;
  }
  if (promptEvalCount !== undefined && evalCount !== undefined && promptEvalCount + evalCount >= numCtx) {
    return `The prompt (${promptEvalCount} tokens) and the output (${evalCount} tokens) filled num_ctx ${numCtx}; Ollama may have cut the prompt. Set contextLength higher.`;
  }
  return undefined;
}
