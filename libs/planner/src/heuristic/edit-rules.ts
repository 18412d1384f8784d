/**
 * The heuristic rules that change or remove what a file already has: remove an import, delete a symbol,
 * delete lines, rename a symbol (file or repository scope), change an import's module. With a repository
 * view they read the target's syntax tree (tree-sitter) and produce exact edits (`delete_lines` with
 * `expected_text`, `update_import`); without one they plan only what needs no knowledge of the file, and
 * ask otherwise. None of them ever inserts code.
 */
import { posix } from 'node:path';
import type { PlanAction, PlanCondition } from '../plan-schema.js';
import {
  findIdentifiers,
  findImports,
  findSymbol,
  findSymbols,
  lineText,
  mentionsName,
  sourceLanguageOf,
  syntaxErrors,
  type ParsedSource,
  type SourceImport,
  type SourceSymbol,
  type SymbolKind,
} from '../source/index.js';
import {
  IDENT,
  QDOTTED,
  QIDENT,
  ask,
  deletionAction,
  lineCount,
  needLanguage,
  needSource,
  needTarget,
  quotedSegments,
  type Context,
  type Rule,
  type RuleResult,
} from './context.js';
import { NerionError } from '@nerion/backend-core';

/** Words that may stand before "import": "the type-only import of X", "the default import". */
const KIND_OF_IMPORT = String.raw`(?:(?:type-only|type|named|default|namespace|es|python)\s+)?`;
const FILE_WORD = String.raw`[\w@~+.\/-]+\.[A-Za-z]\w*`;
/** Where a lazily matched word ends: a space, punctuation, or a full stop that ends the sentence. */
const WORD_END = String.raw`(?=$|[\s,;!?]|\.(?:\s|$))`;

// ---------------------------------------------------------------------------------------------- delete lines

export const deleteLines: Rule = (context) => {
  const match =
    /\b(?:delete|remove|drop)\s+(?:the\s+)?lines?\s+(\d+)(?:\s*(?:-|to|through|until|–|and)\s*(\d+))?/iu.exec(
      context.instruction,
    );
  if (!match) return undefined;
  const path = needTarget(context, 'delete lines');
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (start < 1 || end < start)
    throw new NerionError(
      'INVALID_REQUEST',
      `Line range ${start}-${end} is not valid; give 1-based lines with the start before the end.`,
    );
  const preconditions: PlanCondition[] = [{ kind: 'file_exists', path }];
  if (!context.repository)
    return {
      rule: 'delete_lines',
      actions: [{ kind: 'delete_lines', payload: { path, start_line: start, end_line: end } }],
      preconditions,
    };
  if (context.text === undefined) ask('delete_lines', `${path} does not exist, so it has no lines to delete.`);
  const lines = { text: context.text, lines: context.text.split('\n').map((line) => line.replace(/\r$/u, '')) };
  const total = lineCount(lines);
  if (end > total) ask('delete_lines', `${path} has ${total} lines; lines ${start}-${end} do not all exist.`);
  // Deleting lines must not break a file that parses: check the result with the parser first.
  if (context.source && syntaxErrors(context.source).length === 0) {
    const kept = [...lines.lines.slice(0, start - 1), ...lines.lines.slice(end)].join('\n');
    const after = context.repository.parser.parse(path, kept);
    if (after) {
      try {
        const broken = syntaxErrors(after)[0];
        if (broken)
          ask(
            'delete_lines',
            `Deleting lines ${start}-${end} would leave ${path} unparseable (line ${broken.line}); delete a whole function, class or import instead?`,
          );
      } finally {
        after.release();
      }
    }
  }
  return {
    rule: 'delete_lines',
    actions: [deletionAction(path, lines, start, end, false)],
    preconditions,
  };
};

// --------------------------------------------------------------------------------------------- remove import

interface ImportTarget {
  /** A module (`os`, `./text.js`) or an imported name (`List`). */
  what: string;
  /** `from typing` / `from './x'` when the instruction names the module of a named import. */
  module?: string;
  unused: boolean;
}

function importTargets(context: Context): ImportTarget[] | 'all-unused' | undefined {
  const text = context.instruction;
  if (!/\bimports?\b/iu.test(context.unquoted) && !quotedSegments(text).some((q) => /^\s*(?:import|from)\s/u.test(q)))
    return undefined;
  const unused = /\bunused\b/iu.test(text);
  // A quoted statement: remove 'import os' / "from typing import List".
  for (const quoted of quotedSegments(text)) {
    const statement = /^\s*(?:import|from)\s/u.test(quoted) ? quoted.trim() : undefined;
    if (!statement) continue;
    const from = new RegExp(String.raw`^from\s+([\w.]+)\s+import\s+(.+)$`, 'u').exec(statement);
    if (from) {
      const names = from[2]
        .replace(/[()]/gu, '')
        .split(',')
        .map((name) => name.trim().split(/\s+as\s+/u)[0])
        .filter(Boolean);
      return names.map((name) => ({ what: name, module: from[1], unused }));
    }
    const es = /^import\s+(?:type\s+)?(?:\{([^}]*)\}|(\w+)|\*\s+as\s+(\w+))\s+from\s+['"]([^'"]+)['"];?$/u.exec(
      statement,
    );
    if (es) {
      if (es[1] !== undefined)
        return es[1]
          .split(',')
          .map((name) => name.trim().split(/\s+as\s+/u)[0])
          .filter(Boolean)
          .map((name) => ({ what: name, module: es[4], unused }));
      return [{ what: es[4], unused }];
    }
    const plain = /^import\s+(?:['"]([^'"]+)['"]|([\w.]+(?:\s*,\s*[\w.]+)*))\s*;?$/u.exec(statement);
    if (plain) return (plain[1] ?? plain[2]).split(/\s*,\s*/u).map((module) => ({ what: module, unused }));
  }
  const token = String.raw`[\x60'"]?([@\w./:-]+?)[\x60'"]?`;
  // remove List from the typing import(s)
  let match = new RegExp(
    String.raw`\b(?:remove|delete|drop)\s+${token}\s+from\s+(?:the\s+)?${token}\s+imports?\b`,
    'iu',
  ).exec(text);
  if (match) return [{ what: match[1], module: match[2], unused }];
  // remove (the) (unused) import(s) (of|for) X (from M) — "from FILE" names the target, not a module
  match = new RegExp(
    String.raw`\b(?:remove|delete|drop|strip|get rid of)\s+(?:the\s+|an?\s+)?(?:unused\s+)?${KIND_OF_IMPORT}imports?\s+(?:of\s+|for\s+|named\s+|called\s+)?(?:the\s+)?(?:module\s+|name\s+)?${token}(?:\s+from\s+${token})?${WORD_END}`,
    'iu',
  ).exec(text);
  if (match && !/^(?:from|in|of|the|to|that|which|and)$/iu.test(match[1])) {
    const from = match[2];
    const fromIsFile =
      from !== undefined &&
      sourceLanguageOf(from) !== undefined &&
      /[/.]/u.test(from) &&
      new RegExp(`^${FILE_WORD}$`, 'u').test(from) &&
      (from === context.target || from.includes('/') || context.repository?.exists(from) === true);
    return [{ what: match[1], ...(from !== undefined && !fromIsFile ? { module: from } : {}), unused }];
  }
  // remove the (unused) X (and Y) import(s)
  match = new RegExp(
    String.raw`\b(?:remove|delete|drop|strip|get rid of)\s+(?:the\s+|an?\s+)?(?:unused\s+)?((?:[\x60'"]?[@\w./:-]+[\x60'"]?(?:\s*,\s*|\s+and\s+|,\s+and\s+))*[\x60'"]?[@\w./:-]+?[\x60'"]?)\s+${KIND_OF_IMPORT}imports?\b`,
    'iu',
  ).exec(text);
  if (match) {
    const names = match[1]
      .split(/\s*,\s*(?:and\s+)?|\s+and\s+/u)
      .map((name) => name.replace(/^[\x60'"]|[\x60'"]$/gu, ''))
      .filter((name) => name.length > 0);
    if (names.every((name) => !/^(?:unused|all|the|every|type-only|type|named|default)$/iu.test(name)))
      return names.map((name) => ({ what: name, unused }));
  }
  // remove (all) unused imports
  if (/\b(?:remove|delete|drop|strip|get rid of)\s+(?:all\s+)?(?:the\s+)?unused\s+imports\b/iu.test(text))
    return 'all-unused';
  return undefined;
}

/** Whether `name` appears in the file outside import statements. */
function usedOutsideImports(source: ParsedSource, name: string, imports: readonly SourceImport[]): boolean {
  return findIdentifiers(source, name).some(
    (span) => !imports.some((item) => span.startIndex >= item.startIndex && span.endIndex <= item.endIndex),
  );
}

/** The local name a whole-module import binds (`import os.path` → `os`; `import x as y` → `y`). */
function boundName(item: SourceImport): string | undefined {
  if (item.style === 'import') return item.alias ?? item.module.split('.')[0];
  return item.defaultName ?? item.namespace;
}

function statementAlone(source: ParsedSource, item: SourceImport): boolean {
  return lineText(source, item.startLine, item.endLine).trim() === item.text.trim();
}

function removeWholeStatement(path: string, source: ParsedSource, item: SourceImport): PlanAction | undefined {
  if (!statementAlone(source, item)) return undefined;
  return deletionAction(path, source, item.startLine, item.endLine, false);
}

export const removeImport: Rule = (context) => {
  const targets = importTargets(context);
  if (targets === undefined) return undefined;
  const rule = 'remove_import';
  const path = needTarget(context, 'remove an import');
  needLanguage(context, path);
  if (!context.repository)
    ask(rule, `nerion needs to read ${path} to remove an import exactly; run it inside the repository.`);
  const source = needSource(context, rule, 'remove an import from it')!;
  const imports = findImports(source).filter((item) => item.style !== 'reexport');
  const notes: string[] = [];
  let wanted: ImportTarget[];
  if (targets === 'all-unused') {
    wanted = [];
    for (const item of imports) {
      if (item.wildcard || item.typeOnly) continue;
      const bound = boundName(item);
      if (item.names.length === 0 && bound === undefined) continue; // `import 'side-effect'`
      if (bound !== undefined && !usedOutsideImports(source, bound, imports))
        wanted.push({ what: item.style === 'import' ? item.module : bound, unused: true });
      for (const name of item.names)
        if (!usedOutsideImports(source, name.alias ?? name.name, imports))
          wanted.push({ what: name.name, module: item.module, unused: true });
    }
    if (wanted.length === 0) ask(rule, `${path} has no unused imports that nerion can see.`);
  } else wanted = targets;

  // Group by statement: names removed from one statement become one update_import or one deletion.
  const byStatement = new Map<SourceImport, { whole: boolean; names: string[] }>();
  for (const target of wanted) {
    const matches: { item: SourceImport; whole: boolean; name?: string }[] = [];
    for (const item of imports) {
      if (target.module !== undefined && item.module !== target.module) continue;
      if (target.module === undefined && (item.module === target.what || boundName(item) === target.what))
        matches.push({ item, whole: true });
      else
        for (const name of item.names)
          if (name.name === target.what || name.alias === target.what)
            matches.push({ item, whole: false, name: name.name });
    }
    if (matches.length === 0)
      ask(rule, `${path} has no import of ${target.what}${target.module ? ` from ${target.module}` : ''}.`);
    const statements = new Set(matches.map((match) => match.item.startIndex));
    if (statements.size > 1)
      ask(
        rule,
        `${path} imports ${target.what} in ${statements.size} places (lines ${[...new Set(matches.map((m) => m.item.startLine))].join(', ')}); which one should go?`,
      );
    const local = matches[0].whole ? boundName(matches[0].item) : matches[0].name;
    if (target.unused && local !== undefined && usedOutsideImports(source, local, imports))
      ask(rule, `${target.what} is still used in ${path} (not an unused import); remove it anyway?`);
    for (const match of matches) {
      const entry = byStatement.get(match.item) ?? { whole: false, names: [] };
      if (match.whole) entry.whole = true;
      else entry.names.push(match.name!);
      byStatement.set(match.item, entry);
    }
  }

  const actions: PlanAction[] = [];
  const deletedLines = new Set<number>();
  // Whole python `import a, b` statements share one span: collect what stays per statement.
  const statementRemovals = new Map<number, SourceImport[]>();
  for (const [item, entry] of byStatement) {
    const language = context.language!;
    const keepsBindings =
      entry.whole === false &&
      (item.names.length > entry.names.length || item.defaultName !== undefined || item.namespace !== undefined);
    if (entry.whole && item.statementModules > 1) {
      const list = statementRemovals.get(item.startIndex) ?? [];
      list.push(item);
      statementRemovals.set(item.startIndex, list);
    } else if (keepsBindings) {
      actions.push({
        kind: 'update_import',
        payload: { path, language, module: item.module, remove_names: [...new Set(entry.names)] },
      });
    } else {
      const action = removeWholeStatement(path, source, item);
      if (!action)
        ask(
          rule,
          `The import on line ${item.startLine} of ${path} shares its line with other code; edit it by hand or with --llm.`,
        );
      if (!deletedLines.has(item.startLine)) actions.push(action);
      deletedLines.add(item.startLine);
    }
  }
  for (const [startIndex, removed] of statementRemovals) {
    const siblings = imports.filter((item) => item.startIndex === startIndex);
    const kept = siblings.filter((item) => !removed.includes(item));
    const first = siblings[0];
    if (kept.length === 0) {
      const action = removeWholeStatement(path, source, first);
      if (!action) ask(rule, `The import on line ${first.startLine} of ${path} shares its line with other code.`);
      actions.push(action);
      continue;
    }
    if (first.startLine !== first.endLine || !statementAlone(source, first))
      ask(
        rule,
        `The import on line ${first.startLine} of ${path} spans lines or shares them; edit it by hand or with --llm.`,
      );
    const oldLine = source.lines[first.startLine - 1];
    const indent = /^\s*/u.exec(oldLine)![0];
    const newLine = `${indent}import ${kept.map((item) => (item.alias ? `${item.module} as ${item.alias}` : item.module)).join(', ')}`;
    actions.push({
      kind: 'apply_unified_diff',
      payload: {
        path,
        diff: `--- a/${path}\n+++ b/${path}\n@@ -${first.startLine},1 +${first.startLine},1 @@\n-${oldLine}\n+${newLine}\n`,
      },
    });
    notes.push(`The statement on line ${first.startLine} imports several modules; the plan rewrites that one line.`);
  }
  actions.sort((left, right) => lineOf(right) - lineOf(left));
  return {
    rule,
    actions,
    preconditions: [{ kind: 'file_exists', path }],
    ...(notes.length > 0 ? { notes } : {}),
  };
};

function lineOf(action: PlanAction): number {
  if (action.kind === 'delete_lines') return action.payload.start_line;
  if (action.kind === 'apply_unified_diff') return Number(/@@ -(\d+)/u.exec(action.payload.diff)?.[1] ?? 0);
  return Number.MAX_SAFE_INTEGER;
}

// --------------------------------------------------------------------------------------------- delete symbol

const KIND_WORDS: Record<string, SymbolKind[]> = {
  function: ['function', 'method'],
  func: ['function', 'method'],
  def: ['function', 'method'],
  helper: ['function', 'method'],
  method: ['method'],
  class: ['class'],
  interface: ['interface'],
  type: ['type_alias', 'interface'],
  'type alias': ['type_alias'],
  enum: ['enum'],
  variable: ['variable'],
  constant: ['variable'],
  const: ['variable'],
};
const KIND_RE = String.raw`(type alias|function|func|def|helper|method|class|interface|type|enum|variable|constant|const)`;

interface SymbolTarget {
  name: string;
  kinds?: SymbolKind[];
}

function symbolTarget(text: string, verb: string): SymbolTarget | undefined {
  // <verb> (the) method m (from|of|in) (the) class C
  let match = new RegExp(
    String.raw`\b${verb}\s+(?:the\s+)?method\s+${QIDENT}\s+(?:from|of|in)\s+(?:the\s+)?class\s+${QIDENT}`,
    'iu',
  ).exec(text);
  if (match) return { name: `${match[2]}.${match[1]}`, kinds: ['method'] };
  // <verb> (the) KIND (called|named) X
  match = new RegExp(
    String.raw`\b${verb}\s+(?:the\s+|an?\s+)?(?:\w+\s+)?${KIND_RE}\s+(?:called\s+|named\s+)?${QDOTTED}`,
    'iu',
  ).exec(text);
  if (match && isSymbolWord(match[2])) return { name: match[2], kinds: KIND_WORDS[match[1].toLowerCase()] };
  // <verb> (the) X KIND
  match = new RegExp(String.raw`\b${verb}\s+(?:the\s+)?${QDOTTED}\s+${KIND_RE}\b`, 'iu').exec(text);
  if (match && isSymbolWord(match[1])) return { name: match[1], kinds: KIND_WORDS[match[2].toLowerCase()] };
  // <verb> X from FILE / <verb> X in FILE / <verb> `X`
  match = new RegExp(
    String.raw`\b${verb}\s+(?:the\s+)?${QDOTTED}(?:\s+(?:from|in|of)\s+(?:the\s+)?(?:file\s+)?${FILE_WORD})?\s*$`,
    'iu',
  ).exec(text);
  if (match && isSymbolWord(match[1])) return { name: match[1] };
  return undefined;
}

function isSymbolWord(word: string): boolean {
  return !/^(?:the|it|this|that|all|everything|line|lines|file|import|imports|unused|code|function|class|method|from|in|of|to|into|on|at)$/iu.test(
    word,
  );
}

function resolveSymbol(source: ParsedSource, target: SymbolTarget, rule: string, path: string): SourceSymbol {
  let candidates: SourceSymbol[];
  if (target.name.includes('.')) {
    const found = findSymbol(source, target.name);
    candidates = found ? [found] : [];
  } else {
    const all = findSymbols(source).filter((item) => item.name === target.name);
    const top = all.filter((item) => item.className === undefined);
    candidates = top.length > 0 && !(target.kinds?.length === 1 && target.kinds[0] === 'method') ? top : all;
  }
  if (target.kinds) candidates = candidates.filter((item) => target.kinds!.includes(item.kind));
  if (candidates.length === 0) {
    const other = findSymbol(source, target.name);
    ask(
      rule,
      other
        ? `${target.name} in ${path} is a ${other.kind.replace('_', ' ')}, not a ${target.kinds?.[0]?.replace('_', ' ') ?? 'symbol'}; which should it be?`
        : `${path} has no ${target.kinds?.[0]?.replace('_', ' ') ?? 'symbol'} named ${target.name}.`,
    );
  }
  if (candidates.length > 1)
    ask(
      rule,
      `${path} has ${candidates.length} symbols named ${target.name} (${candidates.map((item) => item.qualifiedName).join(', ')}); name one as Class.method.`,
    );
  return candidates[0];
}

export const deleteSymbol: Rule = (context) => {
  const target = symbolTarget(context.instruction, String.raw`(?:delete|remove|drop|get rid of|eliminate)`);
  if (!target) return undefined;
  const rule = 'delete_symbol';
  const path = needTarget(context, `delete ${target.name}`);
  needLanguage(context, path);
  if (!context.repository)
    ask(rule, `nerion needs to read ${path} to delete ${target.name} exactly; run it inside the repository.`);
  const source = needSource(context, rule, `delete ${target.name}`)!;
  const symbol = resolveSymbol(source, target, rule, path);
  const start = Math.min(symbol.commentStartLine, symbol.startLine);
  const before = source.text.slice(source.text.lastIndexOf('\n', symbol.startIndex - 1) + 1, symbol.startIndex);
  const lineEnd = source.text.indexOf('\n', symbol.endIndex);
  const after = source.text.slice(symbol.endIndex, lineEnd < 0 ? undefined : lineEnd);
  if (before.trim() !== '' || after.replace(/[;,]/gu, '').trim() !== '')
    ask(rule, `${symbol.qualifiedName} shares its lines with other code in ${path}; edit it by hand or with --llm.`);
  if (context.language === 'python' && symbol.className !== undefined) {
    const siblings = findSymbols(source).filter((item) => item.className === symbol.className && item !== symbol);
    const owner = findSymbol(source, symbol.className);
    if (siblings.length === 0 && owner?.docstring === undefined)
      ask(
        rule,
        `${symbol.qualifiedName} is the only member of class ${symbol.className}; deleting it leaves an empty class body. Delete the class instead?`,
      );
  }
  const notes: string[] = [];
  const uses = findIdentifiers(source, symbol.name).filter(
    (span) =>
      span.startIndex < source.text.length &&
      (span.startIndex < symbol.startIndex || span.startIndex >= symbol.endIndex),
  );
  if (uses.length > 0)
    notes.push(
      `${symbol.name} is still mentioned in ${path} on line(s) ${[...new Set(uses.map((span) => span.startLine))].join(', ')}.`,
    );
  const elsewhere = referencingFiles(context, symbol.name, symbol.className);
  if (elsewhere.length > 0) notes.push(`Other files refer to ${symbol.name}: ${elsewhere.join(', ')}.`);
  return {
    rule,
    actions: [deletionAction(path, source, start, symbol.endLine, true)],
    preconditions: [
      { kind: 'file_exists', path },
      { kind: 'symbol_exists', path, symbol: symbol.qualifiedName },
    ],
    postconditions: [{ kind: 'symbol_absent', path, symbol: symbol.qualifiedName }],
    ...(notes.length > 0 ? { notes } : {}),
  };
};

// ---------------------------------------------------------------------------------------------------- rename

/** Dotted Python module names by which `target` can be imported (`app/calc.py` → app.calc, calc; src/ layouts). */
function pythonModuleNames(target: string): string[] {
  const stem = target.replace(/\.pyi?$/u, '').replace(/\/__init__$/u, '');
  const parts = stem.split('/');
  const names = new Set<string>();
  for (let index = 0; index < parts.length; index += 1) names.add(parts.slice(index).join('.'));
  return [...names];
}

/** Whether the import `item` in `importer` refers to the module file `target`. */
export function importRefersTo(item: SourceImport, importer: string, target: string): boolean {
  const language = sourceLanguageOf(target);
  if (language === 'python') {
    const module = item.module;
    if (module.startsWith('.')) {
      const dots = /^\.+/u.exec(module)![0].length;
      let base = posix.dirname(importer);
      for (let index = 1; index < dots; index += 1) base = posix.dirname(base);
      const rest = module.slice(dots).replace(/\./gu, '/');
      const resolved = rest ? posix.join(base, rest) : base;
      const stem = target.replace(/\.pyi?$/u, '');
      return (
        resolved === stem ||
        resolved === stem.replace(/\/__init__$/u, '') ||
        (rest === '' && item.names.some((name) => posix.join(base, name.name) === stem))
      );
    }
    const names = pythonModuleNames(target);
    if (names.includes(module)) return true;
    // from app import calc
    return item.names.some((name) => names.includes(`${module}.${name.name}`));
  }
  if (!item.module.startsWith('.')) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(importer), item.module));
  const strip = (path: string): string => path.replace(/\.(?:[cm]?[jt]sx?)$/u, '').replace(/\/index$/u, '');
  return strip(resolved) === strip(target);
}

/** Other source files (same language family) that import `name` from the target, or import the target and mention `name`. */
function referencingFiles(context: Context, name: string, className?: string): string[] {
  const repository = context.repository;
  const target = context.target;
  if (!repository || !target || !context.language) return [];
  const python = context.language === 'python';
  const found: string[] = [];
  for (const file of repository.sourceFiles()) {
    if (file === target) continue;
    const language = sourceLanguageOf(file);
    if ((language === 'python') !== python) continue;
    // Only files whose text has the name at all are parsed.
    if (!repository.read(file)?.includes(name)) continue;
    const source = repository.parse(file);
    if (!source) continue;
    try {
      if (!mentionsName(source, name)) continue;
      const refers = findImports(source).some(
        (item) =>
          importRefersTo(item, file, target) &&
          (item.names.some((imported) => imported.name === name || imported.name === className) ||
            item.names.length === 0 ||
            item.namespace !== undefined ||
            item.defaultName !== undefined ||
            item.names.some((imported) => target.replace(/\.\w+$/u, '').endsWith(imported.name))),
      );
      if (refers) found.push(file);
    } finally {
      source.release();
    }
  }
  return found;
}

export const renameSymbol: Rule = (context) => {
  const text = context.instruction;
  let match = new RegExp(
    String.raw`\brename\s+(?:the\s+)?method\s+${QIDENT}\s+(?:of|in|from)\s+(?:the\s+)?class\s+${QIDENT}(?:\s+(?:in|of|from)\s+(?:the\s+)?(?:file\s+)?${FILE_WORD})?\s+(?:to|as|into)\s+${QIDENT}`,
    'iu',
  ).exec(text);
  let oldName: string | undefined;
  let newName: string | undefined;
  let kinds: SymbolKind[] | undefined;
  if (match) {
    oldName = `${match[2]}.${match[1]}`;
    newName = match[3];
    kinds = ['method'];
  } else {
    match = new RegExp(
      String.raw`\brename\s+(?:the\s+)?(?:${KIND_RE}\s+|symbol\s+)?[\x60'"]?(${IDENT}(?:\.${IDENT})*)[\x60'"]?(?:\s+(?:in|of|from)\s+(?:the\s+)?(?:file\s+)?${FILE_WORD})?\s+(?:to|as|into|->|→)\s+${QIDENT}`,
      'iu',
    ).exec(text);
    if (!match) {
      if (/\brename\b/iu.test(context.unquoted))
        ask(
          'rename_symbol',
          'Which symbol should be renamed, and to what? Say e.g. "rename parse to parse_config in src/config.py".',
        );
      return undefined;
    }
    oldName = match[2]!;
    newName = match[3]!;
    if (match[1]) kinds = KIND_WORDS[match[1].toLowerCase()];
  }
  const rule = 'rename_symbol';
  const path = needTarget(context, `rename ${oldName}`);
  const language = needLanguage(context, path);
  const explicitRepository =
    /\b(?:everywhere|across the (?:repo|repository|project|codebase)|in all files|repo-wide|all references|all usages)\b/iu.test(
      text,
    );
  const notes: string[] = [];
  let scope: 'file' | 'repository' = explicitRepository ? 'repository' : 'file';
  let qualified = oldName;
  if (context.repository) {
    const source = needSource(context, rule, `rename ${oldName}`)!;
    const symbol = resolveSymbol(source, { name: oldName, ...(kinds ? { kinds } : {}) }, rule, path);
    qualified = symbol.qualifiedName;
    const clash = findSymbols(source).find((item) => item.name === newName && item.className === symbol.className);
    if (clash)
      ask(rule, `${path} already has ${clash.qualifiedName}; renaming ${qualified} to ${newName} would clash.`);
    const others = referencingFiles(context, symbol.name, symbol.className);
    if (others.length > 0) {
      scope = 'repository';
      notes.push(
        `Other files refer to ${symbol.name}: ${others.join(', ')}; the rename covers them (scope "repository").`,
      );
    } else if (context.repository.truncated) {
      scope = 'repository';
      notes.push('The repository is larger than nerion reads for planning; the rename is repository-wide to be safe.');
    }
  } else if (!explicitRepository) {
    notes.push('The repository was not read; the rename covers this file only (say "everywhere" for all files).');
  }
  return {
    rule,
    actions: [{ kind: 'rename_symbol', payload: { path, language, old_name: qualified, new_name: newName, scope } }],
    preconditions: [
      ...(context.repository ? [{ kind: 'file_exists' as const, path }] : []),
      { kind: 'symbol_exists', path, symbol: qualified },
    ],
    postconditions: [
      {
        kind: 'symbol_exists',
        path,
        symbol: qualified.includes('.') ? `${qualified.slice(0, qualified.lastIndexOf('.'))}.${newName}` : newName,
      },
    ],
    ...(notes.length > 0 ? { notes } : {}),
  };
};

// ------------------------------------------------------------------------------------------- change import

export const changeImport: Rule = (context) => {
  const token = String.raw`[\x60'"]?([@\w./:-]+?)[\x60'"]?`;
  const match =
    new RegExp(
      String.raw`\b(?:change|replace|update|switch|swap|rewrite|point)\s+(?:the\s+|an?\s+)?imports?\s+(?:of\s+|from\s+|for\s+)?(?:the\s+)?(?:module\s+)?${token}\s+(?:to|with|by|into|for)\s+(?:the\s+)?(?:module\s+)?${token}${WORD_END}`,
      'iu',
    ).exec(context.instruction) ??
    new RegExp(
      String.raw`\b(?:change|replace|update|switch|swap|rewrite)\s+(?:the\s+)?${token}\s+imports?\s+(?:to|with|by|into)\s+${token}${WORD_END}`,
      'iu',
    ).exec(context.instruction);
  if (!match) {
    if (/\bimports?\b/iu.test(context.unquoted) && context.intent === 'change')
      ask(
        'update_import',
        "Which import should change, and to what? Say e.g. \"change the import from './text' to './text.js' in src/index.ts\".",
      );
    return undefined;
  }
  const rule = 'update_import';
  const from = match[1];
  const to = match[2];
  const path = needTarget(context, 'change an import');
  const language = needLanguage(context, path);
  const notes: string[] = [];
  if (context.repository) {
    const source = needSource(context, rule, 'change its imports')!;
    const imports = findImports(source).filter((item) => item.style !== 'reexport');
    const found = imports.filter((item) => item.module === from);
    if (found.length === 0) {
      const named = imports.find((item) => item.names.some((name) => name.name === from));
      ask(
        rule,
        named
          ? `${from} is a name imported from ${named.module} in ${path}, not a module; say which module it should come from instead.`
          : `${path} has no import from ${from}.`,
      );
    }
    if (imports.some((item) => item.module === to) && language === 'python')
      notes.push(`${path} already imports from ${to}; the updated import stands next to it.`);
    if (to.startsWith('.') && language !== 'python') {
      const resolved = posix.normalize(posix.join(posix.dirname(path), to));
      const stem = resolved.replace(/\.(?:[cm]?[jt]sx?)$/u, '');
      const exists = ['', '.ts', '.tsx', '.js', '.mjs', '.jsx', '/index.ts', '/index.js'].some((extension) =>
        context.repository!.exists(`${stem}${extension}`),
      );
      if (!exists) notes.push(`No file for ${to} was found next to ${path}.`);
    }
  }
  return {
    rule,
    actions: [{ kind: 'update_import', payload: { path, language, module: from, new_module: to } }],
    preconditions: [{ kind: 'file_exists', path }],
    ...(notes.length > 0 ? { notes } : {}),
  };
};

export type { RuleResult };
