import { SERVER_TEXT_MAX_CHARS, serverText } from '@nerion/backend-core';

type FetchFunction = typeof fetch;

/** Marks an error that did not come as Ollama's JSON error body (so a 404 is not read as "model not found"). */
export const NOT_OLLAMA_BODY = 'a non-JSON answer, HTTP';

/** Bytes of an error body kept (the message shows at most SERVER_TEXT_MAX_CHARS of it). */
const ERROR_BODY_LIMIT = 64 * 1024;

/** The first `limit` bytes of a body as text, and whether that was all of it (the rest is not read). */
async function readBodyStart(response: Response, limit: number): Promise<{ text: string; complete: boolean }> {
  if (!response.body) return { text: '', complete: true };
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), complete: false };
    }
  }
}

/** The beginning of the `"error"` string of a cut `{"error": "…` JSON body, decoded; undefined if not one. */
function errorStringStart(text: string): string | undefined {
  const match = /^\s*\{\s*"error"\s*:\s*"((?:[^"\\]|\\.)*)/su.exec(text);
  if (!match) return undefined;
  const body = match[1].replace(/\\(?:u[0-9a-fA-F]{0,3})?$/u, ''); // an escape cut in half
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return undefined;
  }
}

/**
 * A fetch bound to one call's signal, so abort, timeout and close() end that HTTP request.
 * A non-JSON error body (a proxy's HTML page, another server's 404 text) is handed to the client as
 * Ollama's `{"error": "…"}`, because the client prints such bodies to stdout, which must stay clean.
 */
export function fetchWithSignal(base: FetchFunction, signal: AbortSignal): FetchFunction {
  return async (input, init = {}) => {
    const response = await base(input, {
      ...init,
      signal: init.signal ? AbortSignal.any([init.signal, signal]) : signal,
    });
    if (response.ok) return response;
    // An error body is read only as far as a message can use (a hostile server may send gigabytes).
    const { text, complete } = await readBodyStart(response, ERROR_BODY_LIMIT);
    const headers = { 'content-type': 'application/json' };
    const answer = { status: response.status, statusText: response.statusText, headers };
    const isJson = response.headers.get('content-type')?.includes('application/json') === true;
    if (complete && isJson) return new Response(text, answer);
    // A cut body keeps its size (Content-Length, or at least what was read) in the message's cut note.
    const declared = Number(response.headers.get('content-length'));
    const known = Number.isSafeInteger(declared) && declared > 0;
    const total = { totalBytes: known ? declared : ERROR_BODY_LIMIT, atLeast: !known };
    const start = isJson ? errorStringStart(text) : undefined;
    if (start !== undefined)
      return new Response(JSON.stringify({ error: serverText(start, SERVER_TEXT_MAX_CHARS, total) }), answer);
    const said = complete ? text.trim() : serverText(text, SERVER_TEXT_MAX_CHARS, total);
    return new Response(
      JSON.stringify({ error: `${NOT_OLLAMA_BODY} ${response.status}: ${said || response.statusText}` }),
      answer,
    );
  };
}
