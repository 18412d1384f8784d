type FetchFunction = typeof fetch;

/** Marks an error that did not come as Ollama's JSON error body (so a 404 is not read as "model not found"). */
export const NOT_OLLAMA_BODY = 'a non-JSON answer, HTTP';

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
    if (response.ok || response.headers.get('content-type')?.includes('application/json')) return response;
    const text = (await response.text()).trim().slice(0, 500);
    return new Response(
      JSON.stringify({ error: `${NOT_OLLAMA_BODY} ${response.status}: ${text || response.statusText}` }),
      {
        status: response.status,
        statusText: response.statusText,
        headers: { 'content-type': 'application/json' },
      },
    );
  };
}
