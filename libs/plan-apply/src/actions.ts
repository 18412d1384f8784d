/**
 * One edit function per action kind. Each reads the current in-memory text, locates its place with the
 * tree-sitter parse of that text, and writes the new text back to the workspace. Nothing touches the disk.
 */
import { applyPatch, parsePatch } from 'diff';
import type { ActionPayload, PlanAction } from '@nerion/planner';
import { grammarOf, refuse, withRoot, type ActionOutcome, type EditContext } from './context.js';
import { renameSymbol } from './rename.js';
import { kids, type Node, type SourceGrammar } from './source.js';
import {
  classBody,
  classMembers,
  definitionsIn,
  definitionsOfStatement,
  findClass,
  findDefinition,
  importInsertionPoint,
  importsIn,
  isPython,
  isPythonDocstring,
  leadingJsDoc,
  pythonFunctionDocstring,
  pythonModuleDocstring,
  stringValue,
  type Definition,
  type DefinitionKind,
  type ImportEntry,
} from './syntax.js';
import { applySplices, indentOf, indentUnit, insertBlock, lineEnd, lineStart, reindent, type Splice } from './text.js';

export function applyAction(context: EditContext, action: PlanAction, index: number): ActionOutcome {
  const what = `action ${index + 1} (${action.kind})`;
  switch (action.kind) {
    case 'create_file':
      return createFile(context, action.payload, what);
    case 'append_to_file':
      return appendToFile(context, action.payload);
    case 'insert_function':
      return insertDefinition(context, action.payload, 'function', what);
    case 'insert_class':
      return insertDefinition(context, action.payload, 'class', what);
    case 'insert_interface':
      return insertDefinition(context, action.payload, 'interface', what);
    case 'insert_type_alias':
      return insertDefinition(context, action.payload, 'type_alias', what);
    case 'insert_import':
      return insertImport(context, action.payload, what);
    case 'replace_node':
      return replaceNode(context, action.payload, what);
    case 'rename_symbol':
      return renameSymbol(context, action.payload, what);
    case 'delete_lines':
      return deleteLines(context, action.payload, what);
    case 'ensure_test':
      return ensureTest(context, action.payload, what);
    case 'add_module_docstring':
      return addModuleDocstring(context, action.payload, what);
    case 'add_function_docstring':
      return addFunctionDocstring(context, action.payload, what);
    case 'apply_unified_diff':
      return applyUnifiedDiff(context, action.payload, what);
    case 'update_import':
      return updateImport(context, action.payload, what);
    case 'export_default':
      return exportDefault(context, action.payload, what);
    case 'export_named':
      return exportNamed(context, action.payload, what);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Files

function createFile(context: EditContext, payload: ActionPayload<'create_file'>, what: string): ActionOutcome {
  const { ws } = context;
  if (ws.exists(payload.path)) {
    if (ws.read(payload.path, what) === payload.content) return 'unchanged';
    if (payload.overwrite !== true)
      refuse(`${what}: ${payload.path} already exists and the action does not allow overwriting it.`, {
        path: payload.path,
      });
  }
  ws.write(payload.path, payload.content);
  return 'applied';
}

/** Appends `content` on a new line (creating the file when it does not exist, like `>>`). */
function appendToFile(context: EditContext, payload: ActionPayload<'append_to_file'>): ActionOutcome {
  const { ws } = context;
  const current = ws.exists(payload.path) ? ws.read(payload.path, 'append_to_file') : '';
  const separator = current.length === 0 || current.endsWith('\n') ? '' : '\n';
  const content = payload.content.endsWith('\n') ? payload.content : `${payload.content}\n`;
  ws.write(payload.path, current + separator + content);
  return 'applied';
}

// ---------------------------------------------------------------------------------------------------------
// Inserting definitions

type InsertPayload =
  | ActionPayload<'insert_function'>
  | ActionPayload<'insert_class'>
  | ActionPayload<'insert_interface'>
  | ActionPayload<'insert_type_alias'>;

const DUPLICATE_KINDS: Record<'function' | 'class' | 'interface' | 'type_alias', readonly DefinitionKind[]> = {
  function: ['function', 'method', 'class', 'variable'],
  class: ['function', 'class', 'variable', 'interface', 'type_alias'],
  interface: ['class', 'interface', 'type_alias', 'enum'],
  type_alias: ['class', 'interface', 'type_alias', 'enum'],
};

function insertDefinition(
  context: EditContext,
  payload: InsertPayload,
  kind: 'function' | 'class' | 'interface' | 'type_alias',
  what: string,
): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const python = isPython(grammar);
  const exists = ws.exists(payload.path);
  const text = exists ? ws.read(payload.path, what) : '';
  const className = 'class_name' in payload ? payload.class_name : undefined;
  const afterSymbol = 'after_symbol' in payload ? payload.after_symbol : undefined;
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    const existing = findDefinition(root, grammar, payload.name, {
      ...(className === undefined ? {} : { className }),
      kinds: DUPLICATE_KINDS[kind],
    });
    if (existing)
      refuse(
        `${what}: ${payload.path} already defines ${className ? `${className}.` : ''}${payload.name} (line ${existing.node.startPosition.row + 1}); use replace_node to change it.`,
        { path: payload.path, name: payload.name, line: existing.node.startPosition.row + 1 },
      );
    if (className !== undefined) return insertIntoClass(text, root, grammar, payload, className, afterSymbol, what);
    const blank = python ? 2 : 1;
    if (afterSymbol !== undefined) {
      const anchor = findDefinition(root, grammar, afterSymbol);
      if (!anchor)
        refuse(`${what}: ${payload.path} has no top-level ${afterSymbol} to insert ${payload.name} after.`, {
          path: payload.path,
          symbol: afterSymbol,
        });
      return insertBlock(text, lineEnd(text, anchor.outer.endIndex), reindent(payload.code, ''), blank);
    }
    return insertBlock(text, text.length, reindent(payload.code, ''), blank);
  });
  ws.write(payload.path, next);
  return 'applied';
}

function insertIntoClass(
  text: string,
  root: Node,
  grammar: SourceGrammar,
  payload: InsertPayload,
  className: string,
  afterSymbol: string | undefined,
  what: string,
): string {
  const owner = findClass(root, grammar, className);
  if (!owner) refuse(`${what}: ${payload.path} has no class ${className}.`, { path: payload.path, class: className });
  const body = classBody(owner.node);
  if (!body) refuse(`${what}: the class ${className} in ${payload.path} has no body.`, { path: payload.path });
  const python = isPython(grammar);
  const unit = indentUnit(text, python);
  const classIndent = indentOf(text, owner.outer.startIndex);
  const members = kids(body).filter((member) => member.type !== 'comment');
  let anchor: Node | undefined;
  if (afterSymbol !== undefined) {
    const found = classMembers(owner.node, grammar).find((member) => member.name === afterSymbol);
    if (!found)
      refuse(`${what}: the class ${className} in ${payload.path} has no member ${afterSymbol}.`, {
        path: payload.path,
        symbol: afterSymbol,
      });
    anchor = found.outer;
  }
  if (python) {
    const first = members[0];
    const memberIndent =
      first && first.startPosition.row > owner.node.startPosition.row
        ? indentOf(text, first.startIndex)
        : classIndent + unit;
    const code = reindent(payload.code, memberIndent);
    // A placeholder body (`pass` or `...`, after a docstring or alone) is replaced by the new method.
    const placeholder = members[members.length - 1];
    const isPlaceholder = (node: Node | undefined): boolean =>
      node !== undefined &&
      (node.type === 'pass_statement' || (node.type === 'expression_statement' && node.text === '...'));
    if (
      anchor === undefined &&
      isPlaceholder(placeholder) &&
      members.slice(0, -1).every((member, index) => index === 0 && isPythonDocstring(member))
    ) {
      const stub = placeholder;
      if (stub.startPosition.row === owner.node.startPosition.row) {
        // `class C: pass` on one line.
        return text.slice(0, stub.startIndex).trimEnd() + '\n' + code + text.slice(stub.endIndex);
      }
      return text.slice(0, lineStart(text, stub.startIndex)) + code + text.slice(stub.endIndex);
    }
    const after = anchor ?? members[members.length - 1] ?? body;
    return insertBlock(text, lineEnd(text, after.endIndex), code, 1);
  }
  // TS/JS: inside `{ … }`.
  const close = body.endIndex - 1;
  const first = members[0];
  const memberIndent =
    first && first.startPosition.row > body.startPosition.row ? indentOf(text, first.startIndex) : classIndent + unit;
  const code = reindent(payload.code, memberIndent);
  if (anchor !== undefined) return insertBlock(text, lineEnd(text, anchor.endIndex), code, 1);
  if (members.length === 0) {
    // `{}` or `{ }`: open it up.
    return text.slice(0, body.startIndex) + '{\n' + code + '\n' + classIndent + '}' + text.slice(body.endIndex);
  }
  const last = members[members.length - 1];
  if (last.endPosition.row === body.endPosition.row) {
    // The closing brace shares the last member's line.
    return text.slice(0, close).trimEnd() + '\n\n' + code + '\n' + classIndent + text.slice(close);
  }
  return insertBlock(text, lineEnd(text, last.endIndex), code, 1, 0);
}

// ---------------------------------------------------------------------------------------------------------
// Replacing a node

const NODE_KINDS: Record<ActionPayload<'replace_node'>['node_kind'], readonly DefinitionKind[]> = {
  function: ['function'],
  class: ['class'],
  method: ['method'],
  variable: ['variable'],
  interface: ['interface'],
  type_alias: ['type_alias'],
};

function replaceNode(context: EditContext, payload: ActionPayload<'replace_node'>, what: string): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const text = ws.read(payload.path, what);
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    let definition: Definition | undefined;
    if (payload.class_name !== undefined || payload.node_kind === 'method') {
      const classes =
        payload.class_name !== undefined
          ? [payload.class_name]
          : definitionsIn(root, grammar)
              .filter((entry) => entry.kind === 'class')
              .map((entry) => entry.name);
      const found = classes
        .map((name) =>
          findDefinition(root, grammar, payload.name, {
            className: name,
            kinds: payload.node_kind === 'function' ? ['method'] : NODE_KINDS[payload.node_kind],
          }),
        )
        .filter((entry): entry is Definition => entry !== undefined);
      if (found.length > 1)
        refuse(`${what}: more than one class in ${payload.path} has a ${payload.name}; name the class (class_name).`, {
          path: payload.path,
          name: payload.name,
        });
      definition = found[0];
    } else {
      definition = findDefinition(root, grammar, payload.name, { kinds: NODE_KINDS[payload.node_kind] });
    }
    if (!definition)
      refuse(
        `${what}: ${payload.path} has no ${payload.node_kind} ${payload.class_name ? `${payload.class_name}.` : ''}${payload.name} to replace.`,
        { path: payload.path, name: payload.name, node_kind: payload.node_kind },
      );
    const code = payload.code.replace(/\r\n/gu, '\n');
    const trimmed = dedentFirst(code);
    // The wrapper (decorators, `export`) is replaced too when the new code brings its own.
    const bringsWrapper = isPython(grammar) ? trimmed.startsWith('@') : /^export\b/u.test(trimmed);
    let target = bringsWrapper ? definition.outer : definition.node;
    let start = target.startIndex;
    // A leading JSDoc comment is replaced when the new code starts with its own.
    if (!isPython(grammar) && trimmed.startsWith('/**')) {
      const doc = leadingJsDoc(definition.outer);
      if (doc) start = doc.startIndex;
      target = definition.outer;
    }
    const indent = indentOf(text, start);
    const body = reindent(code, indent).slice(indent.length);
    return text.slice(0, start) + body + text.slice(target.endIndex);
  });
  if (next === text) return 'unchanged';
  ws.write(payload.path, next);
  return 'applied';
}

function dedentFirst(code: string): string {
  return code.replace(/^\s+/u, '');
}

// ---------------------------------------------------------------------------------------------------------
// Lines

function deleteLines(context: EditContext, payload: ActionPayload<'delete_lines'>, what: string): ActionOutcome {
  const { ws } = context;
  const text = ws.read(payload.path, what);
  const lines = text.split('\n');
  const count = text.endsWith('\n') ? lines.length - 1 : lines.length;
  if (payload.end_line > count)
    refuse(
      `${what}: ${payload.path} has ${count} lines; lines ${payload.start_line}-${payload.end_line} are not all there.`,
      { path: payload.path, start_line: payload.start_line, end_line: payload.end_line, line_count: count },
    );
  const selected = lines.slice(payload.start_line - 1, payload.end_line);
  if (payload.expected_text !== undefined) {
    // The lines joined by "\n"; one extra final line break in expected_text is tolerated.
    const given = payload.expected_text.replace(/\r\n/gu, '\n');
    const actual = selected.join('\n');
    if (given !== actual && given !== `${actual}\n`) {
      const expectedLines = given.split('\n');
      if (expectedLines.length === selected.length + 1 && expectedLines[expectedLines.length - 1] === '')
        expectedLines.pop();
      const expected = expectedLines.join('\n');
      const movedTo = findLines(lines, expectedLines);
      refuse(
        `${what}: lines ${payload.start_line}-${payload.end_line} of ${payload.path} no longer hold the expected text` +
          (movedTo === undefined
            ? ''
            : ` (it is now at lines ${movedTo}-${movedTo + expectedLines.length - 1}; re-plan)`) +
          '; nothing was deleted.',
        {
          path: payload.path,
          start_line: payload.start_line,
          end_line: payload.end_line,
          expected: expected,
          actual,
          ...(movedTo === undefined ? {} : { found_at_line: movedTo }),
        },
      );
    }
  }
  const kept = [...lines.slice(0, payload.start_line - 1), ...lines.slice(payload.end_line)];
  ws.write(payload.path, kept.join('\n'));
  return 'applied';
}

function findLines(lines: string[], wanted: string[]): number | undefined {
  outer: for (let start = 0; start + wanted.length <= lines.length; start += 1) {
    for (let offset = 0; offset < wanted.length; offset += 1)
      if (lines[start + offset] !== wanted[offset]) continue outer;
    return start + 1;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Imports

function insertImport(context: EditContext, payload: ActionPayload<'insert_import'>, what: string): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const text = ws.exists(payload.path) ? ws.read(payload.path, what) : '';
  const statement = payload.statement.replace(/\r\n/gu, '\n').trim();
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    const imports = importsIn(root, grammar).filter((entry) => entry.module === payload.module);
    if (importCovered(imports, payload)) return undefined;
    return insertImportStatement(text, root, grammar, statement);
  });
  if (next === undefined) {
    context.notes.push(`${what}: ${payload.path} already imports that from ${payload.module}`);
    return 'unchanged';
  }
  ws.write(payload.path, next);
  return 'applied';
}

function insertImportStatement(text: string, root: Node, grammar: SourceGrammar, statement: string): string {
  const { after } = importInsertionPoint(root, grammar);
  if (after) return insertBlock(text, lineEnd(text, after.endIndex), statement, 0, 1);
  // No imports yet: at the top, after leading comments (shebang, licence, encoding line).
  let at = 0;
  for (const node of kids(root)) {
    if (node.type !== 'comment' && node.type !== 'hash_bang_line') break;
    if (node.startPosition.row !== text.slice(0, at).split('\n').length - 1) break;
    at = lineEnd(text, node.endIndex);
  }
  if (at > 0) return insertBlock(text, at, statement, 1, 1);
  return statement + '\n' + (text.length > 0 ? (text.startsWith('\n') ? '' : '\n') + text : '');
}

function importCovered(imports: ImportEntry[], payload: ActionPayload<'insert_import'>): boolean {
  if (imports.length === 0) return false;
  const bindings = imports.flatMap((entry) => entry.bindings);
  const names = payload.names ?? [];
  if (names.some((name) => !bindings.some((binding) => binding.kind === 'named' && binding.imported === name)))
    return false;
  if (
    payload.default_name !== undefined &&
    !bindings.some((binding) => binding.kind === 'default' && binding.local === payload.default_name)
  )
    return false;
  if (
    payload.namespace !== undefined &&
    !bindings.some(
      (binding) => (binding.kind === 'namespace' || binding.kind === 'module') && binding.local === payload.namespace,
    )
  )
    return false;
  // A bare `import m` (Python) or side-effect import: covered by any import of the module.
  return true;
}

function updateImport(context: EditContext, payload: ActionPayload<'update_import'>, what: string): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const python = isPython(grammar);
  const text = ws.read(payload.path, what);
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    const entries = importsIn(root, grammar).filter((entry) => entry.module === payload.module);
    if (entries.length === 0) {
      if (payload.add_names !== undefined && payload.remove_names === undefined && payload.new_module === undefined) {
        const names = payload.add_names.join(', ');
        const statement = python
          ? `from ${payload.module} import ${names}`
          : `import { ${names} } from ${JSON.stringify(payload.module)};`;
        return insertImportStatement(text, root, grammar, statement);
      }
      refuse(`${what}: ${payload.path} does not import ${payload.module}.`, {
        path: payload.path,
        module: payload.module,
      });
    }
    const splices: Splice[] = [];
    const removed = new Set<string>();
    const handled = new Set<number>();
    const removedNodes = new Set<number>();
    const wholeRemovals = new Set<Splice>();
    // Removals, per statement.
    const toRemove = new Set(payload.remove_names ?? []);
    if (toRemove.size > 0) {
      const byStatement = new Map<number, { statement: Node; entries: ImportEntry[] }>();
      for (const entry of entries) {
        const group = byStatement.get(entry.statement.id) ?? { statement: entry.statement, entries: [] };
        group.entries.push(entry);
        byStatement.set(entry.statement.id, group);
      }
      for (const { statement } of byStatement.values()) {
        // All bindings of the statement (a Python `import a, b` has one entry per module).
        const all = importsIn(root, grammar).filter((entry) => entry.statement.id === statement.id);
        const bindings = all.flatMap((entry) =>
          entry.bindings.map((binding) => ({ binding, ours: entry.module === payload.module })),
        );
        const matches = (binding: (typeof bindings)[number]): boolean =>
          binding.ours &&
          (toRemove.has(binding.binding.imported) ||
            toRemove.has(binding.binding.local) ||
            (binding.binding.kind === 'module' && toRemove.has(binding.binding.imported.split('.').pop()!)));
        const drop = bindings.filter(matches);
        if (drop.length === 0) continue;
        for (const { binding } of drop) {
          removed.add(binding.imported);
          removed.add(binding.local);
        }
        for (const { binding } of drop) removedNodes.add(binding.node.id);
        if (drop.length === bindings.length) {
          handled.add(statement.id);
          const whole = removeStatement(text, statement);
          wholeRemovals.add(whole);
          splices.push(whole);
          continue;
        }
        const named = bindings.filter((item) => item.binding.kind === 'named');
        const namedList = named[0]?.binding.node.parent;
        if (!python && named.length > 0 && named.every((item) => drop.includes(item)) && namedList) {
          // `import x, { a } from 'm'` without a: drop the braces and their comma too.
          const before = /,\s*$/u.exec(text.slice(0, namedList.startIndex));
          splices.push({ start: namedList.startIndex - (before?.[0].length ?? 0), end: namedList.endIndex, text: '' });
          splices.push(
            ...removeListItems(
              text,
              drop.filter((item) => item.binding.kind !== 'named').map((item) => item.binding.node),
            ),
          );
        } else
          splices.push(
            ...removeListItems(
              text,
              drop.map((item) => item.binding.node),
            ),
          );
      }
      const missing = [...toRemove].filter(
        (name) => !removed.has(name) && ![...removed].some((item) => item.split('.').pop() === name),
      );
      if (missing.length > 0)
        refuse(`${what}: ${payload.path} does not import ${missing.join(', ')} from ${payload.module}.`, {
          path: payload.path,
          module: payload.module,
          names: missing,
        });
    }
    // Additions go to the first statement with a named list (or one that can take one).
    const toAdd = (payload.add_names ?? []).filter(
      (name) =>
        !entries.some((entry) =>
          entry.bindings.some((binding) => binding.kind === 'named' && binding.imported === name),
        ),
    );
    if (toAdd.length > 0) {
      const target = entries.find((entry) => !handled.has(entry.statement.id) && canTakeNames(entry, python));
      if (target) splices.push(addNames(text, target, toAdd, python, removedNodes));
      else {
        const module = payload.new_module ?? payload.module;
        const statement = python
          ? `from ${module} import ${toAdd.join(', ')}`
          : `import { ${toAdd.join(', ')} } from ${JSON.stringify(module)};`;
        const anchor = entries[entries.length - 1].statement;
        splices.push({
          start: lineEnd(text, anchor.endIndex),
          end: lineEnd(text, anchor.endIndex),
          text: statement + '\n',
        });
      }
    }
    if (payload.new_module !== undefined) {
      for (const entry of entries) {
        if (
          handled.has(entry.statement.id) &&
          splices.some((splice) => splice.start === lineStart(text, entry.statement.startIndex))
        )
          continue;
        splices.push({ start: entry.moduleNode.startIndex, end: entry.moduleNode.endIndex, text: payload.new_module });
      }
    }
    return applySplices(text, dedupeSplices(splices, wholeRemovals));
  });
  if (next === text) return 'unchanged';
  ws.write(payload.path, next);
  return 'applied';
}

/** A statement removed whole wins over edits inside it. */
function dedupeSplices(splices: Splice[], wholes: ReadonlySet<Splice>): Splice[] {
  return splices.filter(
    (splice) =>
      wholes.has(splice) || ![...wholes].some((whole) => splice.start >= whole.start && splice.end <= whole.end),
  );
}

function canTakeNames(entry: ImportEntry, python: boolean): boolean {
  if (python) return !entry.plainImport && !entry.bindings.some((binding) => binding.kind === 'star');
  return !entry.bindings.some((binding) => binding.kind === 'namespace');
}

function addNames(
  text: string,
  entry: ImportEntry,
  names: string[],
  python: boolean,
  removedNodes: ReadonlySet<number>,
): Splice {
  const named = entry.bindings.filter((binding) => binding.kind === 'named' && !removedNodes.has(binding.node.id));
  const last = named[named.length - 1];
  if (last) {
    const node = last.node;
    if (text.slice(lineStart(text, node.startIndex), node.startIndex).trim() === '') {
      // One name per line: the new names get lines of their own, trailing comma kept if the list has one.
      const indent = indentOf(text, node.startIndex);
      const comma = /^[ \t]*,/u.exec(text.slice(node.endIndex));
      if (comma) {
        const at = node.endIndex + comma[0].length;
        return { start: at, end: at, text: names.map((name) => `\n${indent}${name},`).join('') };
      }
      return { start: node.endIndex, end: node.endIndex, text: names.map((name) => `,\n${indent}${name}`).join('') };
    }
    return { start: node.endIndex, end: node.endIndex, text: names.map((name) => `, ${name}`).join('') };
  }
  if (python) refuse(`cannot add names to ${entry.statement.text}`);
  // ES: `import x from 'm'` → `import x, { y } from 'm'`; `import 'm'` → `import { y } from 'm'`.
  const defaultBinding = entry.bindings.find((binding) => binding.kind === 'default');
  if (defaultBinding)
    return {
      start: defaultBinding.node.endIndex,
      end: defaultBinding.node.endIndex,
      text: `, { ${names.join(', ')} }`,
    };
  const source = entry.moduleNode.parent ?? entry.moduleNode;
  return { start: source.startIndex, end: source.startIndex, text: `{ ${names.join(', ')} } from ` };
}

/** Removes a whole statement with its line (and the line break), keeping the lines around it. */
function removeStatement(text: string, statement: Node): Splice {
  const start = lineStart(text, statement.startIndex);
  const end = lineEnd(text, statement.endIndex);
  const onlyOnLines =
    text.slice(start, statement.startIndex).trim() === '' && text.slice(statement.endIndex, end).trim() === '';
  return onlyOnLines ? { start, end, text: '' } : { start: statement.startIndex, end: statement.endIndex, text: '' };
}

/**
 * Removes items from a comma-separated list (import names) with their separating comma; an item alone on its
 * line (a parenthesised multi-line list) takes its line with it.
 */
function removeListItems(text: string, items: Node[]): Splice[] {
  return items.map((item) => {
    let splice: Splice;
    const after = /^[ \t]*,[ \t]*/u.exec(text.slice(item.endIndex));
    const before = /,\s*$/u.exec(text.slice(0, item.startIndex));
    if (after) splice = { start: item.startIndex, end: item.endIndex + after[0].length, text: '' };
    else if (before) splice = { start: item.startIndex - before[0].length, end: item.endIndex, text: '' };
    else splice = { start: item.startIndex, end: item.endIndex, text: '' };
    const start = lineStart(text, splice.start);
    const end = lineEnd(text, splice.end);
    if (text.slice(start, splice.start).trim() === '' && text.slice(splice.end, end).trim() === '')
      return { start, end, text: '' };
    return splice;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Docstrings

function pythonDocstringLiteral(docstring: string, indent: string): string {
  const escaped = docstring.trim().replace(/\\/gu, '\\\\').replace(/"""/gu, '\\"\\"\\"');
  if (!escaped.includes('\n')) return `"""${escaped}"""`;
  return `"""${escaped
    .split('\n')
    .map((line, index) => (index === 0 || line === '' ? line : indent + line))
    .join('\n')}\n${indent}"""`;
}

function jsDocComment(docstring: string, indent: string): string {
  const lines = docstring.trim().replace(/\*\//gu, '*\\/').split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */`;
  return [`${indent}/**`, ...lines.map((line) => `${indent} *${line ? ` ${line}` : ''}`), `${indent} */`].join('\n');
}

function addModuleDocstring(
  context: EditContext,
  payload: ActionPayload<'add_module_docstring'>,
  what: string,
): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const text = ws.exists(payload.path) ? ws.read(payload.path, what) : '';
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    if (isPython(grammar)) {
      const existing = pythonModuleDocstring(root);
      if (existing) {
        if (stringValue(kids(existing)[0]).trim() === payload.docstring.trim()) return undefined;
        refuse(
          `${what}: ${payload.path} already has a module docstring (line ${existing.startPosition.row + 1}); change it with replace_node or apply_unified_diff.`,
          { path: payload.path, line: existing.startPosition.row + 1 },
        );
      }
      return insertAtTop(text, root, pythonDocstringLiteral(payload.docstring, ''));
    }
    const first = kids(root)[0];
    if (first?.type === 'comment' && first.text.startsWith('/**') && first.startIndex === skipHashbang(text)) {
      if (jsDocText(first.text) === payload.docstring.trim()) return undefined;
      refuse(`${what}: ${payload.path} already starts with a doc comment; change it with apply_unified_diff.`, {
        path: payload.path,
      });
    }
    return insertAtTop(text, root, jsDocComment(payload.docstring, ''));
  });
  if (next === undefined) return 'unchanged';
  ws.write(payload.path, next);
  return 'applied';
}

function skipHashbang(text: string): number {
  return text.startsWith('#!') ? lineEnd(text, 0) : 0;
}

/** Inserts a block at the top of a file: after a shebang/encoding line, before everything else. */
function insertAtTop(text: string, root: Node, block: string): string {
  let at = skipHashbang(text);
  const first = kids(root)[0];
  if (first?.type === 'comment' && /^#.*coding[:=]/u.test(first.text) && first.startPosition.row <= 1)
    at = lineEnd(text, first.endIndex);
  if (at === 0) return block + '\n' + (text.length > 0 ? (text.startsWith('\n') ? '' : '\n') + text : '');
  return insertBlock(text, at, block, 0, 1);
}

function jsDocText(comment: string): string {
  return comment
    .replace(/^\/\*\*\s?/u, '')
    .replace(/\s*\*\/$/u, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/u, ''))
    .join('\n')
    .trim();
}

function addFunctionDocstring(
  context: EditContext,
  payload: ActionPayload<'add_function_docstring'>,
  what: string,
): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const text = ws.read(payload.path, what);
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    const definition = findDefinition(root, grammar, payload.function_name, {
      ...(payload.class_name === undefined ? {} : { className: payload.class_name }),
      kinds: ['function', 'method'],
    });
    if (!definition)
      refuse(
        `${what}: ${payload.path} has no function ${payload.class_name ? `${payload.class_name}.` : ''}${payload.function_name}.`,
        { path: payload.path, name: payload.function_name },
      );
    if (isPython(grammar)) {
      const existing = pythonFunctionDocstring(definition.node);
      if (existing) {
        if (stringValue(kids(existing)[0]).trim() === payload.docstring.trim()) return undefined;
        refuse(
          `${what}: ${payload.function_name} in ${payload.path} already has a docstring (line ${existing.startPosition.row + 1}).`,
          { path: payload.path, line: existing.startPosition.row + 1 },
        );
      }
      const body = definition.node.childForFieldName('body')!;
      const firstStatement = kids(body)[0];
      const unit = indentUnit(text, true);
      if (body.startPosition.row === definition.node.startPosition.row) {
        // `def f(): return 1` → the body moves to its own lines under the docstring.
        const indent = indentOf(text, definition.node.startIndex) + unit;
        return (
          text.slice(0, body.startIndex).trimEnd() +
          '\n' +
          indent +
          pythonDocstringLiteral(payload.docstring, indent) +
          '\n' +
          indent +
          text.slice(body.startIndex)
        );
      }
      const indent = indentOf(text, firstStatement.startIndex);
      const at = lineStart(text, firstStatement.startIndex);
      return text.slice(0, at) + indent + pythonDocstringLiteral(payload.docstring, indent) + '\n' + text.slice(at);
    }
    const doc = leadingJsDoc(definition.outer);
    if (doc) {
      if (jsDocText(doc.text) === payload.docstring.trim()) return undefined;
      refuse(`${what}: ${payload.function_name} in ${payload.path} already has a doc comment.`, { path: payload.path });
    }
    const at = lineStart(text, definition.outer.startIndex);
    const indent = indentOf(text, definition.outer.startIndex);
    return text.slice(0, at) + jsDocComment(payload.docstring, indent) + '\n' + text.slice(at);
  });
  if (next === undefined) return 'unchanged';
  ws.write(payload.path, next);
  return 'applied';
}

// ---------------------------------------------------------------------------------------------------------
// Tests

function ensureTest(context: EditContext, payload: ActionPayload<'ensure_test'>, what: string): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.test_path, payload.language, what);
  const code = payload.code.replace(/\r\n/gu, '\n');
  if (!ws.exists(payload.test_path)) {
    ws.write(payload.test_path, code.endsWith('\n') ? code : `${code}\n`);
    return 'applied';
  }
  const text = ws.read(payload.test_path, what);
  const next = withRoot(context, grammar, payload.test_path, text, what, (root) => {
    if (hasTest(root, grammar, payload.test_name)) return undefined;
    // The new code's imports join the file's imports; the rest goes at the end.
    const parsedCode = context.parsers.parse(grammar, code);
    try {
      const statements = kids(parsedCode.tree.rootNode);
      const importTypes = new Set(['import_statement', 'import_from_statement', 'future_import_statement']);
      const codeImports = statements.filter((statement) => importTypes.has(statement.type));
      let rest = code;
      for (const statement of [...codeImports].reverse())
        rest = rest.slice(0, statement.startIndex) + rest.slice(lineEnd(rest, statement.endIndex));
      let result = text;
      const existingImports = new Set(importsIn(root, grammar).map((entry) => entry.statement.text.trim()));
      for (const statement of codeImports) {
        if (existingImports.has(statement.text.trim())) continue;
        const current = context.parsers.parse(grammar, result);
        try {
          result = insertImportStatement(result, current.tree.rootNode, grammar, statement.text.trim());
        } finally {
          current.release();
        }
      }
      return insertBlock(result, result.length, reindent(rest, ''), isPython(grammar) ? 2 : 1);
    } finally {
      parsedCode.release();
    }
  });
  if (next === undefined) {
    context.notes.push(`${what}: ${payload.test_path} already has a test named ${payload.test_name}`);
    return 'unchanged';
  }
  ws.write(payload.test_path, next);
  return 'applied';
}

function hasTest(root: Node, grammar: SourceGrammar, name: string): boolean {
  if (isPython(grammar)) {
    const search = (container: Node): boolean =>
      definitionsIn(container, grammar, container.type !== 'module').some(
        (definition) =>
          definition.name === name ||
          (definition.kind === 'class' && classBody(definition.node) !== null && search(classBody(definition.node)!)),
      );
    return search(root);
  }
  for (const call of root.descendantsOfType('call_expression')) {
    if (!call) continue;
    const callee = call.childForFieldName('function')?.text ?? '';
    if (!/^(?:test|it|describe)(?:\.\w+)?$/u.test(callee)) continue;
    const first = kids(call.childForFieldName('arguments') ?? call)[0];
    if (first && (first.type === 'string' || first.type === 'template_string') && stringValue(first) === name)
      return true;
    if (first?.type === 'template_string' && first.text.slice(1, -1) === name) return true;
  }
  return definitionsIn(root, grammar).some((definition) => definition.name === name);
}

// ---------------------------------------------------------------------------------------------------------
// Unified diffs

function stripPrefix(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const value = name.replace(/\t.*$/u, '').trim();
  if (value === '/dev/null') return value;
  return /^[ab]\//u.test(value) ? value.slice(2) : value;
}

function applyUnifiedDiff(
  context: EditContext,
  payload: ActionPayload<'apply_unified_diff'>,
  what: string,
): ActionOutcome {
  const { ws } = context;
  let patches;
  try {
    patches = parsePatch(payload.diff.replace(/\r\n/gu, '\n'));
  } catch (error) {
    refuse(`${what}: the diff cannot be parsed (${(error as Error).message}).`, { path: payload.path });
  }
  if (patches.length === 0) refuse(`${what}: the diff holds no file.`, { path: payload.path });
  for (const patch of patches) {
    const oldName = stripPrefix(patch.oldFileName);
    const newName = stripPrefix(patch.newFileName);
    const path = newName !== undefined && newName !== '/dev/null' ? newName : (oldName ?? payload.path);
    if (path === '/dev/null') refuse(`${what}: the diff names no file.`, { path: payload.path });
    const creating = oldName === '/dev/null';
    const deleting = newName === '/dev/null';
    const source = creating ? '' : ws.read(deleting ? oldName! : path, what);
    if (creating && ws.exists(path)) refuse(`${what}: the diff creates ${path}, which already exists.`, { path });
    const result = applyPatch(source, patch, { fuzzFactor: 0 });
    if (result === false) {
      const hunk = patch.hunks[0];
      refuse(
        `${what}: the diff does not apply to ${path} as it is now` +
          (hunk ? ` (the hunk at line ${hunk.oldStart} does not match)` : '') +
          '; nothing was changed.',
        { path, ...(hunk ? { line: hunk.oldStart } : {}) },
      );
    }
    if (deleting) ws.remove(oldName!);
    else ws.write(path, result);
  }
  return 'applied';
}

// ---------------------------------------------------------------------------------------------------------
// Exports (TypeScript / JavaScript)

function exportDefault(context: EditContext, payload: ActionPayload<'export_default'>, what: string): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const text = ws.read(payload.path, what);
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    const existing = kids(root).find(
      (statement) =>
        statement.type === 'export_statement' && allChildren(statement).some((child) => child.type === 'default'),
    );
    if (existing) {
      const value = existing.childForFieldName('value') ?? existing.childForFieldName('declaration');
      const name = value?.childForFieldName('name')?.text ?? value?.text;
      if (name === payload.name) return undefined;
      refuse(`${what}: ${payload.path} already has a default export (line ${existing.startPosition.row + 1}).`, {
        path: payload.path,
        line: existing.startPosition.row + 1,
      });
    }
    assertDeclared(root, grammar, payload.name, payload.path, what);
    return insertBlock(text, text.length, `export default ${payload.name};`, 1);
  });
  if (next === undefined) return 'unchanged';
  ws.write(payload.path, next);
  return 'applied';
}

function allChildren(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

function assertDeclared(root: Node, grammar: SourceGrammar, name: string, path: string, what: string): void {
  const declared =
    definitionsIn(root, grammar).some((definition) => definition.name === name) ||
    importsIn(root, grammar).some((entry) => entry.bindings.some((binding) => binding.local === name));
  if (!declared) refuse(`${what}: ${path} declares no ${name} to export.`, { path, name });
}

function exportNamed(context: EditContext, payload: ActionPayload<'export_named'>, what: string): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const text = ws.exists(payload.path) || payload.from === undefined ? ws.read(payload.path, what) : '';
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    const exported = new Set<string>();
    for (const statement of kids(root)) {
      if (statement.type !== 'export_statement') continue;
      const declaration = statement.childForFieldName('declaration');
      if (declaration)
        for (const definition of definitionsOfStatement(statement, grammar)) exported.add(definition.name);
      const source = statement.childForFieldName('source');
      if ((source ? stringValue(source) : undefined) !== payload.from) continue;
      for (const clause of kids(statement).filter((child) => child.type === 'export_clause'))
        for (const specifier of kids(clause)) {
          const alias = specifier.childForFieldName('alias');
          exported.add(
            (payload.from === undefined ? alias : undefined)?.text ?? specifier.childForFieldName('name')?.text ?? '',
          );
        }
    }
    const missing = payload.names.filter((name) => !exported.has(name));
    if (missing.length === 0) return undefined;
    if (payload.from !== undefined)
      return insertBlock(
        text,
        text.length,
        `export { ${missing.join(', ')} } from ${JSON.stringify(payload.from)};`,
        1,
        0,
      );
    const splices: Splice[] = [];
    const listed: string[] = [];
    const definitions = definitionsIn(root, grammar);
    for (const name of missing) {
      const definition = definitions.find((entry) => entry.name === name);
      if (definition && definition.outer.type !== 'export_statement') {
        // A declaration of its own gets `export ` in front (only when it declares nothing else).
        const siblings = definitions.filter((entry) => entry.node.id === definition.node.id);
        if (siblings.length === 1 && !splices.some((splice) => splice.start === definition.outer.startIndex)) {
          splices.push({ start: definition.outer.startIndex, end: definition.outer.startIndex, text: 'export ' });
          continue;
        }
      }
      assertDeclared(root, grammar, name, payload.path, what);
      listed.push(name);
    }
    let result = applySplices(text, splices);
    if (listed.length > 0) result = insertBlock(result, result.length, `export { ${listed.join(', ')} };`, 1);
    return result;
  });
  if (next === undefined) return 'unchanged';
  ws.write(payload.path, next);
  return 'applied';
}
