/** vLLM's own default endpoint, free of the engine client (`@nerion/backend-vllm/settings`). */
export const DEFAULT_VLLM_BASE_URL = 'http://localhost:8000';

/** The endpoint to use: the configured one when given, else vLLM's default. */
export function vllmBaseUrl(configured?: string): string {
  return configured ?? DEFAULT_VLLM_BASE_URL;
}

/** Where vLLM is: the configured base URLs (several are replicas), else vLLM's default. */
export function vllmEndpoints(configured: readonly string[] | undefined): string[] {
  return configured !== undefined && configured.length > 0 ? [...configured] : [DEFAULT_VLLM_BASE_URL];
}
