/** The plan format's constants, free of valibot (the cache-hit path imports only these). */
/** Bumped whenever a plan that validated before may no longer validate (it is part of the cache key). */
export const PLAN_SCHEMA_VERSION = 1 as const;
export const MAX_PLAN_ACTIONS = 200;
/** 300 KB of content in total (UTF-8 bytes of the serialised actions). */
export const MAX_PLAN_CONTENT_BYTES = 300 * 1024;
/**
 * The longest instruction, in characters (JavaScript string length): checked up front (INVALID_REQUEST),
 * and the bound of `metadata.instruction`. About 5,000 tokens: room for a detailed request, not a document.
 */
export const MAX_INSTRUCTION_LENGTH = 20_000;

export const ACTION_KINDS = [
  'create_file',
  'append_to_file',
  'insert_function',
  'insert_class',
  'insert_import',
  'replace_node',
  'rename_symbol',
  'delete_lines',
  'ensure_test',
  'add_module_docstring',
  'add_function_docstring',
  'apply_unified_diff',
  'update_import',
  'export_default',
  'export_named',
  'insert_interface',
  'insert_type_alias',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export const LANGUAGES = ['python', 'typescript', 'javascript'] as const;
export type PlanLanguage = (typeof LANGUAGES)[number];

/**
 * The heuristic planner's rules version, part of the plan-cache key: raise it whenever the rules plan the
 * same instruction differently, so plans cached by older rules are not served. 2: reads the repository.
 */
export const HEURISTIC_RULES_VERSION = 2;
