/**
 * The plan schema of product-spec §6, in valibot. Each action kind has its own strict payload schema;
 * every path-bearing field is jailed to the repository (pure check here; symlinks: assertPathsInsideRepo).
 */
import * as v from 'valibot';
import { checkRepoRelativePath, diffHeaderPaths } from './repo-path.js';

import {
  LANGUAGES,
  MAX_INSTRUCTION_LENGTH,
  MAX_PLAN_ACTIONS,
  MAX_PLAN_CONTENT_BYTES,
  PLAN_SCHEMA_VERSION,
  type ActionKind,
} from './plan-constants.js';

export {
  ACTION_KINDS,
  LANGUAGES,
  MAX_INSTRUCTION_LENGTH,
  MAX_PLAN_ACTIONS,
  MAX_PLAN_CONTENT_BYTES,
  PLAN_SCHEMA_VERSION,
  type ActionKind,
  type PlanLanguage,
} from './plan-constants.js';

const MAX_TEXT = MAX_PLAN_CONTENT_BYTES;

/** A repo-relative, jailed file path. */
export const RepoPathSchema = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(1024),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const reason = checkRepoRelativePath(dataset.value);
    if (reason) addIssue({ message: `path ${JSON.stringify(dataset.value)} ${reason}` });
  }),
);

const Identifier = v.pipe(v.string(), v.regex(/^[A-Za-z_$][\w$]*$/u, 'must be an identifier'), v.maxLength(200));
const DottedIdentifier = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/u, 'must be an identifier or a dotted name'),
  v.maxLength(400),
);
const Code = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_TEXT));
const Text = v.pipe(v.string(), v.maxLength(MAX_TEXT));
const Docstring = v.pipe(v.string(), v.minLength(1), v.maxLength(20_000));
const ModuleSpecifier = v.pipe(v.string(), v.minLength(1), v.maxLength(400));
const Language = v.picklist(LANGUAGES);
const ScriptLanguage = v.picklist(['typescript', 'javascript'] as const);
const Names = v.pipe(v.array(Identifier), v.minLength(1), v.maxLength(100));

const action = <K extends ActionKind, P extends v.GenericSchema>(kind: K, payload: P) =>
  v.strictObject({ kind: v.literal(kind), payload });

export const ACTION_SCHEMAS = {
  create_file: action(
    'create_file',
    v.strictObject({ path: RepoPathSchema, content: Text, overwrite: v.optional(v.boolean()) }),
  ),
  append_to_file: action('append_to_file', v.strictObject({ path: RepoPathSchema, content: Code })),
  insert_function: action(
    'insert_function',
    v.strictObject({
      path: RepoPathSchema,
      language: Language,
      name: Identifier,
      /** The complete source of the function, docstring included, as it should appear in the file. */
      code: Code,
      docstring: v.optional(Docstring),
      /** Insert inside this class (a method); omitted: at module level. */
      class_name: v.optional(Identifier),
      /** Insert after this symbol; omitted: at the end of the file (or class). */
      after_symbol: v.optional(Identifier),
      exported: v.optional(v.boolean()),
    }),
  ),
  insert_class: action(
    'insert_class',
    v.strictObject({
      path: RepoPathSchema,
      language: Language,
      name: Identifier,
      code: Code,
      docstring: v.optional(Docstring),
      after_symbol: v.optional(Identifier),
      exported: v.optional(v.boolean()),
    }),
  ),
  insert_import: action(
    'insert_import',
    v.strictObject({
      path: RepoPathSchema,
      language: Language,
      module: ModuleSpecifier,
      /** Named imports (`import { a, b } from` / `from m import a, b`); omitted with default/namespace or a bare import. */
      names: v.optional(Names),
      default_name: v.optional(Identifier),
      namespace: v.optional(Identifier),
      /** The exact import statement to insert (appliers use it verbatim; the fields above find duplicates). */
      statement: v.pipe(v.string(), v.minLength(1), v.maxLength(2000)),
    }),
  ),
  replace_node: action(
    'replace_node',
    v.strictObject({
      path: RepoPathSchema,
      language: Language,
      node_kind: v.picklist(['function', 'class', 'method', 'variable', 'interface', 'type_alias'] as const),
      name: Identifier,
      class_name: v.optional(Identifier),
      code: Code,
    }),
  ),
  rename_symbol: action(
    'rename_symbol',
    v.strictObject({
      path: RepoPathSchema,
      language: Language,
      old_name: DottedIdentifier,
      new_name: Identifier,
      /** `file`: only this file; `repository`: also update references elsewhere. */
      scope: v.picklist(['file', 'repository'] as const),
    }),
  ),
  delete_lines: action(
    'delete_lines',
    v.pipe(
      v.strictObject({
        path: RepoPathSchema,
        start_line: v.pipe(v.number(), v.integer(), v.minValue(1)),
        end_line: v.pipe(v.number(), v.integer(), v.minValue(1)),
        /**
         * The lines' current text (lines start_line..end_line joined by "\n", without the last line break),
         * so an applier can refuse when the file changed.
         */
        expected_text: v.optional(Text),
      }),
      v.check((payload) => payload.end_line >= payload.start_line, 'end_line must be >= start_line'),
    ),
  ),
  ensure_test: action(
    'ensure_test',
    v.strictObject({
      path: RepoPathSchema,
      test_path: RepoPathSchema,
      language: Language,
      framework: v.picklist(['pytest', 'unittest', 'jest', 'vitest', 'node:test', 'mocha'] as const),
      test_name: v.pipe(v.string(), v.minLength(1), v.maxLength(300)),
      /** The complete test source to add when a test of this name is missing. */
      code: Code,
    }),
  ),
  add_module_docstring: action(
    'add_module_docstring',
    v.strictObject({ path: RepoPathSchema, language: Language, docstring: Docstring }),
  ),
  add_function_docstring: action(
    'add_function_docstring',
    v.strictObject({
      path: RepoPathSchema,
      language: Language,
      function_name: Identifier,
      class_name: v.optional(Identifier),
      docstring: Docstring,
    }),
  ),
  apply_unified_diff: action(
    'apply_unified_diff',
    v.strictObject({
      /** The file the diff is about (its headers must name it or /dev/null). */
      path: RepoPathSchema,
      diff: v.pipe(
        v.string(),
        v.minLength(1),
        v.maxLength(MAX_TEXT),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          const paths = diffHeaderPaths(dataset.value);
          if (!/^(?:---|\+\+\+) /mu.test(dataset.value)) addIssue({ message: 'diff has no ---/+++ file headers' });
          for (const path of paths) {
            const reason = checkRepoRelativePath(path);
            if (reason) addIssue({ message: `diff header path ${JSON.stringify(path)} ${reason}` });
          }
        }),
      ),
    }),
  ),
  update_import: action(
    'update_import',
    v.pipe(
      v.strictObject({
        path: RepoPathSchema,
        language: Language,
        module: ModuleSpecifier,
        new_module: v.optional(ModuleSpecifier),
        add_names: v.optional(Names),
        remove_names: v.optional(Names),
      }),
      v.check(
        (payload) =>
          payload.new_module !== undefined || payload.add_names !== undefined || payload.remove_names !== undefined,
        'update_import needs new_module, add_names or remove_names',
      ),
    ),
  ),
  export_default: action(
    'export_default',
    v.strictObject({ path: RepoPathSchema, language: ScriptLanguage, name: Identifier }),
  ),
  export_named: action(
    'export_named',
    v.strictObject({ path: RepoPathSchema, language: ScriptLanguage, names: Names, from: v.optional(ModuleSpecifier) }),
  ),
  insert_interface: action(
    'insert_interface',
    v.strictObject({
      path: RepoPathSchema,
      language: v.literal('typescript'),
      name: Identifier,
      code: Code,
      exported: v.optional(v.boolean()),
    }),
  ),
  insert_type_alias: action(
    'insert_type_alias',
    v.strictObject({
      path: RepoPathSchema,
      language: v.literal('typescript'),
      name: Identifier,
      code: Code,
      exported: v.optional(v.boolean()),
    }),
  ),
} as const;

export const ActionSchema = v.variant(
  'kind',
  Object.values(ACTION_SCHEMAS) as unknown as [
    (typeof ACTION_SCHEMAS)[ActionKind],
    ...(typeof ACTION_SCHEMAS)[ActionKind][],
  ],
);
export type PlanAction = v.InferOutput<typeof ActionSchema>;
export type ActionPayload<K extends ActionKind> = v.InferOutput<(typeof ACTION_SCHEMAS)[K]>['payload'];

export const ConditionSchema = v.strictObject({
  kind: v.picklist(['file_exists', 'file_absent', 'symbol_exists', 'symbol_absent'] as const),
  path: RepoPathSchema,
  symbol: v.optional(DottedIdentifier),
});
export type PlanCondition = v.InferOutput<typeof ConditionSchema>;

const Actions = v.pipe(
  v.array(ActionSchema),
  v.minLength(1, 'a plan needs at least one action'),
  v.maxLength(MAX_PLAN_ACTIONS, `a plan has at most ${MAX_PLAN_ACTIONS} actions`),
  v.check(
    (actions) => Buffer.byteLength(JSON.stringify(actions), 'utf8') <= MAX_PLAN_CONTENT_BYTES,
    `a plan carries at most ${MAX_PLAN_CONTENT_BYTES} bytes of content`,
  ),
);
const Conditions = v.pipe(v.array(ConditionSchema), v.maxLength(MAX_PLAN_ACTIONS));

/** What a model is asked to produce: the plan's content, without metadata or bundle_id (nerion adds those). */
export const PlanDraftSchema = v.strictObject({
  target_file: v.optional(RepoPathSchema),
  actions: Actions,
  preconditions: v.optional(Conditions),
  postconditions: v.optional(Conditions),
});
export type PlanDraft = v.InferOutput<typeof PlanDraftSchema>;

export const PLAN_SOURCES = ['heuristic', 'llm', 'heuristic-fallback'] as const;
export type PlanSource = (typeof PLAN_SOURCES)[number];

export const PlanMetadataSchema = v.strictObject({
  source: v.picklist(PLAN_SOURCES),
  instruction: v.pipe(v.string(), v.maxLength(MAX_INSTRUCTION_LENGTH)),
  /** The planner that produced the plan: `heuristic` or `<backend>/<model>`. */
  planner: v.pipe(v.string(), v.minLength(1), v.maxLength(400)),
  language: v.optional(Language),
  /** The heuristic rule that matched (heuristic plans). */
  rule: v.optional(v.pipe(v.string(), v.maxLength(100))),
  clarification_needed: v.optional(v.boolean()),
  questions: v.optional(v.array(v.pipe(v.string(), v.maxLength(2000)))),
  /** Why an LLM plan was replaced by the heuristic one (source `heuristic-fallback`). */
  fallback_reason: v.optional(v.pipe(v.string(), v.maxLength(4000))),
  /** Whether decoding was constrained by the plan JSON Schema (LLM plans). */
  constrained_decoding: v.optional(v.boolean()),
  repaired: v.optional(v.boolean()),
  notes: v.optional(v.array(v.pipe(v.string(), v.maxLength(2000)))),
});
export type PlanMetadata = v.InferOutput<typeof PlanMetadataSchema>;

export const PlanSchema = v.strictObject({
  version: v.literal(PLAN_SCHEMA_VERSION),
  target_file: v.optional(RepoPathSchema),
  actions: Actions,
  preconditions: v.optional(Conditions),
  postconditions: v.optional(Conditions),
  metadata: PlanMetadataSchema,
  bundle_id: v.pipe(
    v.string(),
    v.regex(/^[0-9a-f]{64}$/u, 'must be 64 lowercase hex digits (sha-256 of the plan content)'),
  ),
});
export type Plan = v.InferOutput<typeof PlanSchema>;
