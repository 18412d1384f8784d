/**
 * What the applier needs to know about a parsed file: its top-level definitions, classes and their members,
 * its imports and its module docstring — all read from tree-sitter nodes, never from regular expressions.
 */
import { allKids, kids, type Node, type SourceGrammar } from './source.js';

export type DefinitionKind = 'function' | 'class' | 'method' | 'variable' | 'interface' | 'type_alias' | 'enum';

export interface Definition {
  name: string;
  kind: DefinitionKind;
  /** The declaration itself (function_definition, class_declaration, lexical_declaration, …). */
  node: Node;
  /** The statement holding it in its block: the declaration, or its decorated/export wrapper. */
  outer: Node;
  /** The name node. */
  nameNode: Node;
  /** A `const f = () => …` / `function` expression declaration: also a variable. */
  alsoVariable?: boolean;
}

export const isPython = (grammar: SourceGrammar): boolean => grammar === 'python';

/** The definitions directly inside a module (program/module node) or a class body. */
export function definitionsIn(container: Node, grammar: SourceGrammar, inClass = false): Definition[] {
  const result: Definition[] = [];
  for (const statement of kids(container)) {
    if (isPython(grammar)) pythonDefinitions(statement, statement, inClass, result);
    else scriptDefinitions(statement, statement, inClass, result);
  }
  return result;
}

/** The definitions one statement makes (a declaration, or its export/decorator wrapper). */
export function definitionsOfStatement(statement: Node, grammar: SourceGrammar, inClass = false): Definition[] {
  const result: Definition[] = [];
  if (isPython(grammar)) pythonDefinitions(statement, statement, inClass, result);
  else scriptDefinitions(statement, statement, inClass, result);
  return result;
}

function pythonDefinitions(statement: Node, outer: Node, inClass: boolean, result: Definition[]): void {
  switch (statement.type) {
    case 'decorated_definition': {
      const definition = statement.childForFieldName('definition');
      if (definition) pythonDefinitions(definition, outer, inClass, result);
      return;
    }
    case 'function_definition': {
      const nameNode = statement.childForFieldName('name');
      if (nameNode)
        result.push({ name: nameNode.text, kind: inClass ? 'method' : 'function', node: statement, outer, nameNode });
      return;
    }
    case 'class_definition': {
      const nameNode = statement.childForFieldName('name');
      if (nameNode) result.push({ name: nameNode.text, kind: 'class', node: statement, outer, nameNode });
      return;
    }
    case 'type_alias_statement': {
      const nameNode = statement.childForFieldName('left') ?? kids(statement)[0];
      const identifier = nameNode?.type === 'identifier' ? nameNode : nameNode?.descendantsOfType('identifier')[0];
      if (identifier)
        result.push({ name: identifier.text, kind: 'type_alias', node: statement, outer, nameNode: identifier });
      return;
    }
    case 'expression_statement': {
      for (const expression of kids(statement)) {
        if (expression.type !== 'assignment') continue;
        const left = expression.childForFieldName('left');
        if (left?.type === 'identifier') {
          const type = expression.childForFieldName('type');
          const kind: DefinitionKind = type?.text === 'TypeAlias' ? 'type_alias' : 'variable';
          result.push({ name: left.text, kind, node: statement, outer, nameNode: left });
        }
      }
      return;
    }
    default:
      return;
  }
}

const SCRIPT_FUNCTIONS = new Set(['function_declaration', 'generator_function_declaration']);
const SCRIPT_CLASSES = new Set(['class_declaration', 'abstract_class_declaration']);

function scriptDefinitions(statement: Node, outer: Node, inClass: boolean, result: Definition[]): void {
  const type = statement.type;
  if (type === 'export_statement') {
    const declaration = statement.childForFieldName('declaration');
    if (declaration) scriptDefinitions(declaration, outer, inClass, result);
    return;
  }
  if (type === 'ambient_declaration') {
    for (const child of kids(statement)) scriptDefinitions(child, outer, inClass, result);
    return;
  }
  const nameNode = statement.childForFieldName('name');
  if (SCRIPT_FUNCTIONS.has(type) && nameNode) {
    result.push({ name: nameNode.text, kind: 'function', node: statement, outer, nameNode });
  } else if (SCRIPT_CLASSES.has(type) && nameNode) {
    result.push({ name: nameNode.text, kind: 'class', node: statement, outer, nameNode });
  } else if (type === 'interface_declaration' && nameNode) {
    result.push({ name: nameNode.text, kind: 'interface', node: statement, outer, nameNode });
  } else if (type === 'type_alias_declaration' && nameNode) {
    result.push({ name: nameNode.text, kind: 'type_alias', node: statement, outer, nameNode });
  } else if (type === 'enum_declaration' && nameNode) {
    result.push({ name: nameNode.text, kind: 'enum', node: statement, outer, nameNode });
  } else if (type === 'lexical_declaration' || type === 'variable_declaration') {
    for (const declarator of kids(statement)) {
      if (declarator.type !== 'variable_declarator') continue;
      const name = declarator.childForFieldName('name');
      if (name?.type !== 'identifier') continue;
      const value = declarator.childForFieldName('value');
      const isFunction =
        value !== null &&
        ['arrow_function', 'function_expression', 'function', 'generator_function'].includes(value.type);
      result.push({
        name: name.text,
        kind: isFunction ? 'function' : 'variable',
        node: statement,
        outer,
        nameNode: name,
        alsoVariable: isFunction,
      });
    }
  } else if (inClass && (type === 'method_definition' || type === 'abstract_method_signature') && nameNode) {
    result.push({ name: nameNode.text, kind: 'method', node: statement, outer, nameNode });
  } else if (inClass && (type === 'public_field_definition' || type === 'field_definition')) {
    const name = statement.childForFieldName('name') ?? statement.childForFieldName('property');
    if (name) result.push({ name: name.text, kind: 'variable', node: statement, outer, nameNode: name });
  }
}

/** The body node of a class (Python `block`, TS/JS `class_body`). */
export function classBody(classNode: Node): Node | null {
  return classNode.childForFieldName('body');
}

/** A top-level class by name. */
export function findClass(root: Node, grammar: SourceGrammar, name: string): Definition | undefined {
  return definitionsIn(root, grammar).find((definition) => definition.kind === 'class' && definition.name === name);
}

/** The members of a class, as definitions (methods, fields). */
export function classMembers(classNode: Node, grammar: SourceGrammar): Definition[] {
  const body = classBody(classNode);
  return body ? definitionsIn(body, grammar, true) : [];
}

/**
 * Finds a definition by name and, optionally, its class. `kinds` narrows the search; a function search also
 * finds methods when a class is named.
 */
export function findDefinition(
  root: Node,
  grammar: SourceGrammar,
  name: string,
  options: { className?: string; kinds?: readonly DefinitionKind[] } = {},
): Definition | undefined {
  const matches = (definition: Definition): boolean =>
    definition.name === name &&
    (options.kinds === undefined ||
      options.kinds.includes(definition.kind) ||
      (definition.alsoVariable === true && options.kinds.includes('variable')));
  if (options.className !== undefined) {
    const owner = findClass(root, grammar, options.className);
    if (!owner) return undefined;
    return classMembers(owner.node, grammar).find(matches);
  }
  return definitionsIn(root, grammar).find(matches);
}

/** True when `symbol` (a name or `Class.member`) is defined or imported at the file's top level. */
export function hasSymbol(root: Node, grammar: SourceGrammar, symbol: string): boolean {
  const [first, ...rest] = symbol.split('.');
  if (rest.length === 0) {
    if (definitionsIn(root, grammar).some((definition) => definition.name === first)) return true;
    return importsIn(root, grammar).some((entry) => entry.bindings.some((binding) => binding.local === first));
  }
  let container: Definition | undefined = findClass(root, grammar, first);
  for (const part of rest) {
    if (!container) return false;
    container = classMembers(container.node, grammar).find((member) => member.name === part);
  }
  return container !== undefined;
}

export interface ImportBinding {
  /** The imported name (`*` for a namespace/star import, `default` for a default import, the module for `import m`). */
  imported: string;
  /** The local name it is bound to. */
  local: string;
  /** The node to remove to drop this binding (specifier / aliased_import / dotted_name / identifier). */
  node: Node;
  /** The node holding the imported name, when it is not the local name's node. */
  importedNode: Node;
  kind: 'named' | 'default' | 'namespace' | 'module' | 'star';
}

export interface ImportEntry {
  statement: Node;
  /** The module text as written (`os.path`, `.calc`, `./text.js`). */
  module: string;
  /** The node holding the module text (Python dotted_name/relative_import; TS the string's fragment). */
  moduleNode: Node;
  bindings: ImportBinding[];
  /** Python `import a, b` (each binding is a module). */
  plainImport: boolean;
}

/** Top-level import statements (Python `import`/`from … import`, ES `import … from`). */
export function importsIn(root: Node, grammar: SourceGrammar): ImportEntry[] {
  const entries: ImportEntry[] = [];
  for (const statement of kids(root)) {
    if (isPython(grammar)) {
      if (statement.type === 'import_statement') {
        // `import a.b, c as d`: one entry per module, all sharing the statement.
        for (const child of kids(statement)) {
          const moduleNode = child.type === 'aliased_import' ? child.childForFieldName('name')! : child;
          const alias = child.type === 'aliased_import' ? child.childForFieldName('alias')?.text : undefined;
          entries.push({
            statement,
            module: moduleNode.text,
            moduleNode,
            plainImport: true,
            bindings: [
              {
                imported: moduleNode.text,
                local: alias ?? moduleNode.text.split('.')[0],
                node: child,
                importedNode: moduleNode,
                kind: 'module',
              },
            ],
          });
        }
      } else if (statement.type === 'import_from_statement' || statement.type === 'future_import_statement') {
        const moduleNode = statement.childForFieldName('module_name');
        const module = statement.type === 'future_import_statement' ? '__future__' : (moduleNode?.text ?? '');
        const bindings: ImportBinding[] = [];
        for (const child of kids(statement)) {
          if (child === moduleNode || child.id === moduleNode?.id) continue;
          if (child.type === 'wildcard_import')
            bindings.push({ imported: '*', local: '*', node: child, importedNode: child, kind: 'star' });
          else if (child.type === 'dotted_name')
            bindings.push({ imported: child.text, local: child.text, node: child, importedNode: child, kind: 'named' });
          else if (child.type === 'aliased_import') {
            const name = child.childForFieldName('name')!;
            bindings.push({
              imported: name.text,
              local: child.childForFieldName('alias')?.text ?? name.text,
              node: child,
              importedNode: name,
              kind: 'named',
            });
          }
        }
        entries.push({ statement, module, moduleNode: moduleNode ?? statement, bindings, plainImport: false });
      }
    } else if (statement.type === 'import_statement') {
      const source = statement.childForFieldName('source');
      if (!source) continue;
      const fragment = kids(source).find((child) => child.type === 'string_fragment');
      const bindings: ImportBinding[] = [];
      const clause = kids(statement).find((child) => child.type === 'import_clause');
      for (const part of clause ? kids(clause) : []) {
        if (part.type === 'identifier')
          bindings.push({ imported: 'default', local: part.text, node: part, importedNode: part, kind: 'default' });
        else if (part.type === 'namespace_import') {
          const local = kids(part).find((child) => child.type === 'identifier');
          if (local)
            bindings.push({ imported: '*', local: local.text, node: part, importedNode: local, kind: 'namespace' });
        } else if (part.type === 'named_imports') {
          for (const specifier of kids(part)) {
            if (specifier.type !== 'import_specifier') continue;
            const name = specifier.childForFieldName('name')!;
            const alias = specifier.childForFieldName('alias');
            bindings.push({
              imported: name.text,
              local: alias?.text ?? name.text,
              node: specifier,
              importedNode: name,
              kind: 'named',
            });
          }
        }
      }
      entries.push({
        statement,
        module: fragment?.text ?? '',
        moduleNode: fragment ?? source,
        bindings,
        plainImport: false,
      });
    }
  }
  return entries;
}

/** The leading statements a new import goes after: imports, and in Python the docstring and `__future__`. */
export function importInsertionPoint(root: Node, grammar: SourceGrammar): { after: Node | undefined } {
  let after: Node | undefined;
  const statements = kids(root);
  for (const [index, statement] of statements.entries()) {
    if (statement.type === 'comment') continue;
    if (isPython(grammar)) {
      if (index === firstCodeIndex(statements) && isPythonDocstring(statement)) after = statement;
      else if (['import_statement', 'import_from_statement', 'future_import_statement'].includes(statement.type))
        after = statement;
      else break;
    } else if (statement.type === 'import_statement') after = statement;
    else if (statement.type === 'expression_statement' && isDirective(statement) && after === undefined)
      after = statement;
    else break;
  }
  return { after };
}

function firstCodeIndex(statements: Node[]): number {
  return statements.findIndex((statement) => statement.type !== 'comment');
}

function isDirective(statement: Node): boolean {
  const expression = kids(statement)[0];
  return expression?.type === 'string' && /^['"]use [a-z ]+['"]$/u.test(expression.text);
}

/** A Python statement that is a plain string expression (a docstring when first in its block). */
export function isPythonDocstring(statement: Node | undefined): boolean {
  if (statement?.type !== 'expression_statement') return false;
  const children = kids(statement);
  return children.length === 1 && children[0].type === 'string';
}

/** The module docstring statement of a Python file, if any. */
export function pythonModuleDocstring(root: Node): Node | undefined {
  const first = kids(root).find((statement) => statement.type !== 'comment');
  return isPythonDocstring(first) ? first : undefined;
}

/** The first statement of a Python function's body, when it is a docstring. */
export function pythonFunctionDocstring(definition: Node): Node | undefined {
  const body = definition.childForFieldName('body');
  const first = body ? kids(body).find((statement) => statement.type !== 'comment') : undefined;
  return isPythonDocstring(first) ? first : undefined;
}

/** The `/** … *\/` comment right before a node (only whitespace between), if any. */
export function leadingJsDoc(node: Node): Node | undefined {
  const previous = node.previousSibling;
  if (
    previous?.type === 'comment' &&
    previous.text.startsWith('/**') &&
    node.startPosition.row - previous.endPosition.row <= 1
  )
    return previous;
  return undefined;
}

/** Every descendant (pre-order), the node itself first. */
export function* descendants(node: Node): Generator<Node> {
  yield node;
  for (const child of allKids(node)) yield* descendants(child);
}

/** The string literal's text without quotes (Python `string_content`, ES `string_fragment`). */
export function stringValue(node: Node): string {
  return allKids(node)
    .filter((child) => child.type === 'string_content' || child.type === 'string_fragment')
    .map((child) => child.text)
    .join('');
}
