import type { ConfigVariable } from './config.js';

/** The CLI flag that sets a variable for one run, where one exists (rendered next to the variable in a fix). */
export const SETTING_FLAGS: Readonly<Partial<Record<ConfigVariable, string>>> = {
  NERION_CODER_BACKEND: '--backend',
  NERION_CODER_MODEL: '--model',
  NERION_CODER_BASE_URL: '--base-url',
  NERION_ALLOW_NETWORK: '--yes',
  NERION_LLM_STRICT: '--strict',
  NERION_JSON_GRAMMAR: '--json-grammar',
  NERION_PLAN_MAX_TOKENS: '--max-tokens',
};
