import type { NerionErrorCode } from '@nerion/backend-core';

/** Exit statuses by error code (docs/cli.md lists them). 0 is success; oclif uses 2 for flag parsing errors. */
export const EXIT_STATUS: Readonly<Record<NerionErrorCode, number>> = {
  CONFIG_INVALID: 2,
  INVALID_REQUEST: 2,
  UNKNOWN_MODEL: 2,
  CATALOG_INVALID: 2,
  PATH_ESCAPE: 2,
  BACKEND_UNREACHABLE: 3,
  BACKEND_CLOSED: 3,
  MODEL_NOT_FOUND: 3,
  MODEL_LOAD_FAILED: 3,
  BINDINGS_UNAVAILABLE: 3,
  BUILD_FAILED: 3,
  SERVER_START_FAILED: 3,
  NOT_AVAILABLE: 3,
  CONSENT_REQUIRED: 4,
  INVALID_OUTPUT: 5,
  PLAN_INVALID: 5,
  TIMEOUT: 6,
  DOWNLOAD_FAILED: 7,
  CHECKSUM_MISMATCH: 7,
  INSUFFICIENT_DISK: 7,
  PRECONDITION_FAILED: 8,
  APPLY_FAILED: 9,
  BACKEND_ERROR: 1,
  CACHE_ERROR: 1,
  INTERNAL: 1,
  ABORTED: 130,
  UNKNOWN_COMMAND: 127,
};

/** A next step to print under the error, when the code alone says what helps. */
export const HINTS: Partial<Readonly<Record<NerionErrorCode, string>>> = {
  BACKEND_UNREACHABLE: 'Run `nerion doctor` to see which backends answer and how to start the others.',
  MODEL_NOT_FOUND:
    'Run `nerion models ensure --model <name>` to provision it, or `nerion models list` to see what is installed.',
  CONSENT_REQUIRED: 'Set NERION_ALLOW_NETWORK=1 or pass --yes to allow the download.',
  CONFIG_INVALID: 'See docs/configuration.md for every variable and its accepted values.',
};
