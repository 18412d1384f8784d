/**
 * `/v1/models` of an OpenAI-compatible server: the one reader of the served-model list, used by the
 * backend's probe and model matching, and by `nerion models list` through `listOpenAICompatibleModels`.
 * No `openai` client here: listing is a single GET, and callers that only list stay light.
 */
import * as v from 'valibot';
import { NerionError, connectionFailure, serverText, unreachableSentence } from '@nerion/backend-core';
import { serverRootFromBaseUrl } from './server-root.js';

export const ModelListSchema = v.object({
  data: v.array(
    v.object({
      id: v.string(),
      owned_by: v.optional(v.nullable(v.string())),
      root: v.optional(v.nullable(v.string())),
      max_model_len: v.optional(v.nullable(v.number())),
    }),
  ),
});
export type ModelList = v.InferOutput<typeof ModelListSchema>;

/** Why a model list could not be read; carried as `data.failure` on the thrown NerionError. */
export type ModelListFailure = 'unreachable' | 'http-status' | 'unexpected-body';

export interface ListModelsOptions {
  /** The server root, e.g. `http://localhost:8000` (a trailing `/v1` is accepted and ignored). */
  baseUrl: string;
  /** Sent as a Bearer token. */
  apiKey?: string;
  /** Bound of the request (default 2000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The server's name in messages (default `The OpenAI-compatible server`). */
  serverName?: string;
  /** Injectable fetch; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/**
 * GET `<root>/v1/models`, validated. Throws NerionError: BACKEND_UNREACHABLE (`data.failure: 'unreachable'`,
 * the network error as `cause`), or BACKEND_ERROR (`'http-status'` with `data.status`, or `'unexpected-body'`).
 */
export async function fetchModelList(options: ListModelsOptions): Promise<ModelList> {
  const root = serverRootFromBaseUrl(options.baseUrl);
  const serverName = options.serverName ?? 'The OpenAI-compatible server';
  const doFetch = options.fetch ?? fetch;
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 2000),
    ...(options.signal ? [options.signal] : []),
  ]);
  let response: Response;
  let body: unknown;
  try {
    response = await doFetch(`${root}/v1/models`, {
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      signal,
    });
    if (response.ok) body = await response.json();
  } catch (error) {
    const connection = connectionFailure(error);
    throw new NerionError('BACKEND_UNREACHABLE', `${unreachableSentence(serverName, root, connection)}.`, {
      cause: error,
      data: {
        baseUrl: root,
        failure: 'unreachable' satisfies ModelListFailure,
        ...(connection ? { code: connection.code } : {}),
      },
    });
  }
  if (!response.ok)
    throw new NerionError(
      'BACKEND_ERROR',
      `${serverName} at ${root} answered /v1/models with HTTP ${response.status}.`,
      {
        data: { baseUrl: root, status: response.status, failure: 'http-status' satisfies ModelListFailure },
      },
    );
  const parsed = v.safeParse(ModelListSchema, body);
  if (!parsed.success) {
    throw new NerionError(
      'BACKEND_ERROR',
      `${serverName} at ${root} answered /v1/models with an unexpected body (${serverText(parsed.issues[0].message)}); is this an OpenAI-compatible server?`,
      { data: { baseUrl: root, failure: 'unexpected-body' satisfies ModelListFailure } },
    );
  }
  return parsed.output;
}

/** The ids the server at `baseUrl` serves now (see fetchModelList for the errors). */
export async function listOpenAICompatibleModels(options: ListModelsOptions): Promise<string[]> {
  return (await fetchModelList(options)).data.map((entry) => entry.id);
}
