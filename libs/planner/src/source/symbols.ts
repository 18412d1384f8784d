/**
 * What a parsed file declares and imports, read from its tree-sitter tree. Python: module-level functions,
 * classes and assignments, and each class's methods (decorators included in the range); TypeScript and
 * JavaScript: top-level functions, classes, interfaces, type aliases, enums and variables (with their
 * `export`), and each class's methods and fields. Imports: Python `import …` / `from … import …`, ES `import`.
 */
import type { Node, Tree } from 'web-tree-sitter';
import type { SourceGrammar, SourceLanguage } from './parse.js';

export type SymbolKind = 'function' | 'class' | 'method' | 'variable' | 'interface' | 'type_alias' | 'enum';

/** A position range: lines are 1-based and inclusive; indices are UTF-16 offsets into the text (end exclusive). */
export interface SourceSpan {
  startLine: number;
  endLine: number;
  startIndex: number;
  endIndex: number;
}

export interface SourceSymbol extends SourceSpan {
  name: string;
  /** `Class.method` for members, else the name. */
  qualifiedName: string;
  kind: SymbolKind;
  /** The enclosing class of a method or field. */
  className?: string;
  /** Declared with `export` (TS/JS). Python symbols are never marked exported. */
  exported: boolean;
  /** `export default …` (TS/JS). */
  exportDefault: boolean;
  /** First line of the comments directly above it (no blank line between), else `startLine`. */
  commentStartLine: number;
  /** The name's own span (for renames). */
  nameStartIndex: number;
  nameEndIndex: number;
  /** The existing docstring's text (Python first-statement string; JSDoc `/** … *\/` directly above in TS/JS). */
  docstring?: string;
  /** Python function/class body (`block`) or TS/JS `statement_block`/`class_body` start, when there is one. */
  bodyStartIndex?: number;
}

export interface ImportedName {
  name: string;
  alias?: string;
}

export interface SourceImport extends SourceSpan {
  /** `os`, `a.b`, `.sibling`, `./text.js`, `node:path`. */
  module: string;
  /**
   * `import` (Python `import m`), `from` (Python `from m import …`), `es` (ES `import … from 'm'` / `import 'm'`),
   * `reexport` (ES `export { a } from 'm'` / `export * from 'm'`: no local binding, but it refers to the module).
   */
  style: 'import' | 'from' | 'es' | 'reexport';
  /** Named imports (`from m import a, b as c`, `import { a, b as c } from 'm'`). */
  names: ImportedName[];
  /** Python `import m as alias`. */
  alias?: string;
  defaultName?: string;
  namespace?: string;
  /** `from m import *`. */
  wildcard?: boolean;
  /** `import type …`. */
  typeOnly?: boolean;
  /** How many modules the same Python `import a, b` statement names (1 when alone; the span is the statement's). */
  statementModules: number;
  /** The whole statement's text. */
  text: string;
}

export interface SyntaxProblem {
  line: number;
  column: number;
  /** `error` (unparseable text) or `missing` (the parser inserted a missing token, named in `text`). */
  kind: 'error' | 'missing';
  text: string;
}

/** Node types that name something (identifier tokens, never strings or comments). */
const NAME_TYPES: Record<SourceLanguage, ReadonlySet<string>> = {
  python: new Set(['identifier']),
  typescript: new Set([
    'identifier',
    'property_identifier',
    'type_identifier',
    'shorthand_property_identifier',
    'shorthand_property_identifier_pattern',
  ]),
  javascript: new Set([
    'identifier',
    'property_identifier',
    'shorthand_property_identifier',
    'shorthand_property_identifier_pattern',
  ]),
};

export function spanOf(node: Node): SourceSpan {
  const end = node.endPosition;
  // A node that ends at column 0 ends with the previous line's break.
  const endLine = end.column === 0 && end.row > node.startPosition.row ? end.row : end.row + 1;
  return { startLine: node.startPosition.row + 1, endLine, startIndex: node.startIndex, endIndex: node.endIndex };
}

function children(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

function namedChildren(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null);
}

function commentStart(node: Node): number {
  let line = node.startPosition.row + 1;
  let previous = node.previousNamedSibling;
  let boundary = node.startPosition.row;
  while (previous && previous.type === 'comment' && previous.endPosition.row >= boundary - 1) {
    // A trailing comment on the line of the previous statement is not ours.
    const before = previous.previousSibling;
    if (before && before.endPosition.row === previous.startPosition.row) break;
    line = previous.startPosition.row + 1;
    boundary = previous.startPosition.row;
    previous = previous.previousNamedSibling;
  }
  return line;
}

function unquote(text: string): string {
  const match = /^[rRbBuUfF]*("""|'''|"|'|`)([\s\S]*)\1$/u.exec(text);
  return match ? match[2] : text;
}

function pythonDocstring(body: Node | null): string | undefined {
  const first = body ? namedChildren(body)[0] : undefined;
  if (first?.type !== 'expression_statement') return undefined;
  const string = namedChildren(first)[0];
  return string?.type === 'string' ? unquote(string.text).trim() : undefined;
}

function jsDocAbove(node: Node): string | undefined {
  const previous = node.previousNamedSibling;
  if (!previous || previous.type !== 'comment' || !previous.text.startsWith('/**')) return undefined;
  if (previous.endPosition.row < node.startPosition.row - 1) return undefined;
  return previous.text
    .replace(/^\/\*\*|\*\/$/gu, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/u, '').trim())
    .filter((line) => line.length > 0)
    .join('\n');
}

function symbol(
  outer: Node,
  nameNode: Node,
  kind: SymbolKind,
  extra: Partial<SourceSymbol> & { className?: string } = {},
): SourceSymbol {
  const name = nameNode.text;
  return {
    ...spanOf(outer),
    name,
    qualifiedName: extra.className ? `${extra.className}.${name}` : name,
    kind,
    exported: false,
    exportDefault: false,
    commentStartLine: commentStart(outer),
    nameStartIndex: nameNode.startIndex,
    nameEndIndex: nameNode.endIndex,
    ...extra,
  };
}

function pythonSymbols(root: Node): SourceSymbol[] {
  const symbols: SourceSymbol[] = [];
  const visit = (container: Node, className: string | undefined): void => {
    for (const child of namedChildren(container)) {
      const definition = child.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
      if (!definition) continue;
      const nameNode = definition.childForFieldName('name');
      const body = definition.childForFieldName('body');
      if (definition.type === 'function_definition' && nameNode) {
        symbols.push(
          symbol(child, nameNode, className ? 'method' : 'function', {
            ...(className ? { className } : {}),
            ...(pythonDocstring(body) === undefined ? {} : { docstring: pythonDocstring(body)! }),
            ...(body ? { bodyStartIndex: body.startIndex } : {}),
          }),
        );
      } else if (definition.type === 'class_definition' && nameNode) {
        const docstring = pythonDocstring(body);
        symbols.push(
          symbol(child, nameNode, 'class', {
            ...(className ? { className } : {}),
            ...(docstring === undefined ? {} : { docstring }),
            ...(body ? { bodyStartIndex: body.startIndex } : {}),
          }),
        );
        if (body && className === undefined) visit(body, nameNode.text);
      } else if (definition.type === 'expression_statement' && className === undefined) {
        const assignment = namedChildren(definition)[0];
        const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
        if (left?.type === 'identifier') symbols.push(symbol(definition, left, 'variable'));
      }
    }
  };
  visit(root, undefined);
  return symbols;
}

function scriptDeclarationSymbols(
  declaration: Node,
  outer: Node,
  exported: boolean,
  exportDefault: boolean,
): SourceSymbol[] {
  const base = { exported, exportDefault };
  const nameNode = declaration.childForFieldName('name');
  switch (declaration.type) {
    case 'function_declaration':
    case 'generator_function_declaration':
    case 'function_signature':
    case 'function_expression':
    case 'function': {
      if (!nameNode) return [];
      const body = declaration.childForFieldName('body');
      const doc = jsDocAbove(outer);
      return [
        symbol(outer, nameNode, 'function', {
          ...base,
          ...(doc === undefined ? {} : { docstring: doc }),
          ...(body ? { bodyStartIndex: body.startIndex } : {}),
        }),
      ];
    }
    case 'class_declaration':
    case 'abstract_class_declaration':
    case 'class': {
      if (!nameNode) return [];
      const body = declaration.childForFieldName('body');
      const doc = jsDocAbove(outer);
      const result = [
        symbol(outer, nameNode, 'class', {
          ...base,
          ...(doc === undefined ? {} : { docstring: doc }),
          ...(body ? { bodyStartIndex: body.startIndex } : {}),
        }),
      ];
      for (const member of body ? namedChildren(body) : []) {
        const memberName = member.childForFieldName('name');
        if (!memberName) continue;
        const isMethod = /^(method_definition|method_signature|abstract_method_signature)$/u.test(member.type);
        const isField = /^(public_field_definition|field_definition)$/u.test(member.type);
        if (!isMethod && !isField) continue;
        const memberBody = member.childForFieldName('body');
        const memberDoc = jsDocAbove(member);
        result.push(
          symbol(member, memberName, isMethod ? 'method' : 'variable', {
            className: nameNode.text,
            ...(memberDoc === undefined ? {} : { docstring: memberDoc }),
            ...(memberBody ? { bodyStartIndex: memberBody.startIndex } : {}),
          }),
        );
      }
      return result;
    }
    case 'interface_declaration':
      return nameNode ? [symbol(outer, nameNode, 'interface', base)] : [];
    case 'type_alias_declaration':
      return nameNode ? [symbol(outer, nameNode, 'type_alias', base)] : [];
    case 'enum_declaration':
      return nameNode ? [symbol(outer, nameNode, 'enum', base)] : [];
    case 'lexical_declaration':
    case 'variable_declaration': {
      const declarators = namedChildren(declaration).filter((child) => child.type === 'variable_declarator');
      const result: SourceSymbol[] = [];
      for (const declarator of declarators) {
        const name = declarator.childForFieldName('name');
        if (name?.type !== 'identifier') continue;
        const value = declarator.childForFieldName('value');
        const isFunction =
          value !== null && /^(arrow_function|function_expression|function|generator_function)$/u.test(value.type);
        const doc = jsDocAbove(outer);
        // With one declarator the whole statement is the symbol; with several, only the declarator.
        const span = declarators.length === 1 ? outer : declarator;
        result.push(
          symbol(span, name, isFunction ? 'function' : 'variable', {
            ...base,
            ...(doc === undefined || declarators.length > 1 ? {} : { docstring: doc }),
          }),
        );
      }
      return result;
    }
    default:
      return [];
  }
}

function scriptSymbols(root: Node): SourceSymbol[] {
  const symbols: SourceSymbol[] = [];
  const exportedNames = new Set<string>();
  let defaultName: string | undefined;
  for (const child of namedChildren(root)) {
    if (child.type === 'export_statement') {
      const declaration = child.childForFieldName('declaration') ?? child.childForFieldName('value');
      const isDefault = children(child).some((token) => token.type === 'default');
      if (declaration) {
        const found = scriptDeclarationSymbols(declaration, child, true, isDefault);
        symbols.push(...found);
        if (isDefault && declaration.type === 'identifier') defaultName = declaration.text;
      } else {
        const clause = namedChildren(child).find((node) => node.type === 'export_clause');
        if (clause && !child.childForFieldName('source')) {
          for (const specifier of namedChildren(clause)) {
            const name = specifier.childForFieldName('name');
            if (name) exportedNames.add(name.text);
          }
        }
      }
    } else {
      symbols.push(...scriptDeclarationSymbols(child, child, false, false));
    }
  }
  for (const item of symbols) {
    if (item.className !== undefined) continue;
    if (exportedNames.has(item.name)) item.exported = true;
    if (defaultName === item.name) {
      item.exported = true;
      item.exportDefault = true;
    }
  }
  return symbols;
}

export function extractSymbols(tree: Tree, language: SourceLanguage): SourceSymbol[] {
  return language === 'python' ? pythonSymbols(tree.rootNode) : scriptSymbols(tree.rootNode);
}

function stringValue(node: Node | null): string | undefined {
  if (!node) return undefined;
  return unquote(node.text);
}

function pythonImports(root: Node): SourceImport[] {
  const imports: SourceImport[] = [];
  const statements = namedChildren(root).filter((node) =>
    /^(import_statement|import_from_statement|future_import_statement)$/u.test(node.type),
  );
  for (const statement of statements) {
    const span = spanOf(statement);
    const text = statement.text;
    if (statement.type === 'import_statement') {
      const modules = statement.childrenForFieldName('name').filter((node): node is Node => node !== null);
      for (const module of modules) {
        const dotted = module.type === 'aliased_import' ? module.childForFieldName('name') : module;
        const alias = module.type === 'aliased_import' ? module.childForFieldName('alias')?.text : undefined;
        if (!dotted) continue;
        imports.push({
          ...span,
          module: dotted.text,
          style: 'import',
          names: [],
          ...(alias ? { alias } : {}),
          statementModules: modules.length,
          text,
        });
      }
      continue;
    }
    const moduleNode = statement.childForFieldName('module_name');
    const module = statement.type === 'future_import_statement' ? '__future__' : (moduleNode?.text ?? '');
    const names: ImportedName[] = [];
    for (const item of statement.childrenForFieldName('name')) {
      if (!item) continue;
      if (item.type === 'aliased_import') {
        const name = item.childForFieldName('name')?.text;
        const alias = item.childForFieldName('alias')?.text;
        if (name) names.push({ name, ...(alias ? { alias } : {}) });
      } else names.push({ name: item.text });
    }
    const wildcard = namedChildren(statement).some((node) => node.type === 'wildcard_import');
    imports.push({
      ...span,
      module,
      style: 'from',
      names,
      ...(wildcard ? { wildcard: true } : {}),
      statementModules: 1,
      text,
    });
  }
  return imports;
}

function scriptImports(root: Node): SourceImport[] {
  const imports: SourceImport[] = [];
  for (const statement of namedChildren(root)) {
    if (statement.type === 'export_statement') {
      const source = stringValue(statement.childForFieldName('source'));
      if (source === undefined) continue;
      const clause = namedChildren(statement).find((node) => node.type === 'export_clause');
      const names: ImportedName[] = [];
      for (const specifier of clause ? namedChildren(clause) : []) {
        const name = specifier.childForFieldName('name')?.text;
        const alias = specifier.childForFieldName('alias')?.text;
        if (name) names.push({ name, ...(alias ? { alias } : {}) });
      }
      const namespace = namedChildren(statement).find((node) => node.type === 'namespace_export');
      imports.push({
        ...spanOf(statement),
        module: source,
        style: 'reexport',
        names,
        ...(clause || namespace ? {} : { wildcard: true }),
        statementModules: 1,
        text: statement.text,
      });
      continue;
    }
    if (statement.type !== 'import_statement') continue;
    const module = stringValue(statement.childForFieldName('source'));
    if (module === undefined) continue;
    const record: SourceImport = {
      ...spanOf(statement),
      module,
      style: 'es',
      names: [],
      statementModules: 1,
      text: statement.text,
    };
    if (children(statement).some((token) => token.type === 'type')) record.typeOnly = true;
    const clause = namedChildren(statement).find((node) => node.type === 'import_clause');
    for (const part of clause ? namedChildren(clause) : []) {
      if (part.type === 'identifier') record.defaultName = part.text;
      else if (part.type === 'namespace_import') {
        const name = namedChildren(part).find((node) => node.type === 'identifier');
        if (name) record.namespace = name.text;
      } else if (part.type === 'named_imports') {
        for (const specifier of namedChildren(part)) {
          if (specifier.type !== 'import_specifier') continue;
          const name = specifier.childForFieldName('name')?.text;
          const alias = specifier.childForFieldName('alias')?.text;
          if (name) record.names.push({ name: unquote(name), ...(alias ? { alias } : {}) });
        }
      }
    }
    imports.push(record);
  }
  return imports;
}

export function extractImports(tree: Tree, language: SourceLanguage): SourceImport[] {
  return language === 'python' ? pythonImports(tree.rootNode) : scriptImports(tree.rootNode);
}

export function extractSyntaxProblems(tree: Tree): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  if (!tree.rootNode.hasError) return problems;
  const walk = (node: Node): void => {
    if (problems.length >= 50) return;
    if (node.isMissing) {
      problems.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        kind: 'missing',
        text: node.type,
      });
      return;
    }
    if (node.type === 'ERROR') {
      problems.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        kind: 'error',
        text: node.text.split('\n')[0].slice(0, 80),
      });
      return;
    }
    if (node.hasError) for (const child of children(node)) walk(child);
  };
  walk(tree.rootNode);
  return problems;
}

/** Every identifier-like token named `name` (never inside strings or comments), in document order. */
export function extractIdentifiers(tree: Tree, language: SourceLanguage, name: string): SourceSpan[] {
  const types = NAME_TYPES[language];
  const found: SourceSpan[] = [];
  const cursor = tree.walk();
  try {
    let descending = true;
    for (;;) {
      if (descending) {
        const type = cursor.nodeType;
        if (types.has(type) && cursor.nodeText === name) {
          const node = cursor.currentNode;
          found.push(spanOf(node));
        }
        if (cursor.gotoFirstChild()) continue;
      }
      if (cursor.gotoNextSibling()) {
        descending = true;
        continue;
      }
      if (!cursor.gotoParent()) break;
      descending = false;
    }
  } finally {
    cursor.delete();
  }
  return found;
}

/** The set of all identifier-like token texts (for cheap "does this file mention X" checks). */
export function extractNames(tree: Tree, language: SourceLanguage): Set<string> {
  const types = NAME_TYPES[language];
  const names = new Set<string>();
  const cursor = tree.walk();
  try {
    let descending = true;
    for (;;) {
      if (descending) {
        if (types.has(cursor.nodeType)) names.add(cursor.nodeText);
        if (cursor.gotoFirstChild()) continue;
      }
      if (cursor.gotoNextSibling()) {
        descending = true;
        continue;
      }
      if (!cursor.gotoParent()) break;
      descending = false;
    }
  } finally {
    cursor.delete();
  }
  return names;
}

export type { SourceGrammar };
