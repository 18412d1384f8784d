/**
 * What a backend's `ensure…Model` function returns when nerion does not fetch the model itself (vLLM,
 * exllamav2): the exact commands and paths for the user to run, as data and as terminal lines.
 */
export interface ModelInstructions {
  /** Commands to run, each as an argument array (printed with shellJoin). */
  readonly commands: readonly (readonly string[])[];
  /** Environment that points nerion at the result. */
  readonly env: Readonly<Record<string, string>>;
  /** Paths involved (model directory, …). */
  readonly paths: Readonly<Record<string, string>>;
  /** The instructions as lines for a terminal. */
  readonly lines: readonly string[];
}
