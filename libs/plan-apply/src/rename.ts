/**
 * `rename_symbol`: renames by syntax, never by text search — identifiers in code are renamed; strings,
 * comments and other objects' properties are not. Repository scope follows imports of the defining file
 * (docs/plans.md, "Renaming across the repository", lists exactly what is found and what is missed).
 */
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { SKIPPED_DIRECTORIES, normaliseRepoPath, type ActionPayload } from '@nerion/planner';
import { grammarOf, refuse, withRoot, type ActionOutcome, type EditContext } from './context.js';
import { grammarFor, kids, type Node, type SourceGrammar } from './source.js';
import { descendants, findClass, hasSymbol, importsIn, isPython, stringValue, type ImportEntry } from './syntax.js';
import { applySplices, type Splice } from './text.js';

const PYTHON_EXTENSIONS = /\.pyi?$/u;
const SCRIPT_EXTENSIONS = /\.(?:[cm]?[jt]s|[jt]sx)$/u;

export function renameSymbol(
  context: EditContext,
  payload: ActionPayload<'rename_symbol'>,
  what: string,
): ActionOutcome {
  const { ws } = context;
  const grammar = grammarOf(payload.path, payload.language, what);
  const [owner, member] = splitDotted(payload.old_name, what);
  const text = ws.read(payload.path, what);
  const next = withRoot(context, grammar, payload.path, text, what, (root) => {
    const newSymbol = member === undefined ? payload.new_name : `${owner}.${payload.new_name}`;
    if (hasSymbol(root, grammar, newSymbol))
      refuse(`${what}: ${payload.path} already has a ${newSymbol}; renaming ${payload.old_name} would clash with it.`, {
        path: payload.path,
        name: newSymbol,
      });
    const splices =
      member === undefined
        ? renameIdentifiers(root, grammar, owner, payload.new_name)
        : renameMember(root, grammar, owner, member, payload.new_name, true);
    if (splices.length === 0)
      refuse(`${what}: ${payload.path} has no ${payload.old_name} to rename.`, {
        path: payload.path,
        name: payload.old_name,
      });
    if (member === undefined && isPython(grammar)) splices.push(...renameInDunderAll(root, owner, payload.new_name));
    return applySplices(text, splices);
  });
  ws.write(payload.path, next);
  if (payload.scope === 'repository') renameAcrossRepository(context, payload, grammar, owner, member);
  return 'applied';
}

function splitDotted(name: string, what: string): [string, string | undefined] {
  const parts = name.split('.');
  if (parts.length > 2) refuse(`${what}: nerion renames a name or a Class.member, not ${name}.`, { name });
  return [parts[0], parts[1]];
}

/** Identifier nodes that are references to or definitions of a plain name. */
function isNameReference(node: Node, grammar: SourceGrammar): boolean {
  const parent = node.parent;
  if (isPython(grammar)) {
    if (node.type !== 'identifier') return false;
    // `obj.name` (the attribute) and `f(name=…)` (a keyword) are someone else's names.
    if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.id === node.id) return false;
    if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === node.id) return false;
    return true;
  }
  return [
    'identifier',
    'type_identifier',
    'shorthand_property_identifier',
    'shorthand_property_identifier_pattern',
  ].includes(node.type);
}

/** Renames every reference to a plain name in a file; shorthand properties keep their key (`{ a }` → `{ a: b }`). */
function renameIdentifiers(root: Node, grammar: SourceGrammar, oldName: string, newName: string): Splice[] {
  const splices: Splice[] = [];
  for (const node of descendants(root)) {
    if (node.text !== oldName || !isNameReference(node, grammar)) continue;
    const shorthand =
      node.type === 'shorthand_property_identifier' || node.type === 'shorthand_property_identifier_pattern';
    splices.push({ start: node.startIndex, end: node.endIndex, text: shorthand ? `${oldName}: ${newName}` : newName });
  }
  return splices;
}

/** `__all__ = ["old", …]` entries in a Python module. */
function renameInDunderAll(root: Node, oldName: string, newName: string): Splice[] {
  const splices: Splice[] = [];
  for (const statement of kids(root)) {
    const assignment = kids(statement).find((child) => child.type === 'assignment');
    if (assignment?.childForFieldName('left')?.text !== '__all__') continue;
    const right = assignment.childForFieldName('right');
    for (const item of right ? kids(right) : []) {
      if (item.type !== 'string' || stringValue(item) !== oldName) continue;
      const content = kids(item).find((child) => child.type === 'string_content');
      if (content) splices.push({ start: content.startIndex, end: content.endIndex, text: newName });
    }
  }
  return splices;
}

/**
 * `Class.member`: the member's definition in the class, and accesses through `self`/`cls`/`this`/`super()`
 * inside the class or through the class name anywhere in the file.
 */
function renameMember(
  root: Node,
  grammar: SourceGrammar,
  className: string,
  member: string,
  newName: string,
  defining: boolean,
): Splice[] {
  const splices: Splice[] = [];
  const owner = defining ? findClass(root, grammar, className) : undefined;
  if (defining) {
    if (!owner) return [];
    const body = owner.node.childForFieldName('body');
    for (const statement of body ? kids(body) : []) {
      const definition =
        statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
      const name = definition?.childForFieldName('name') ?? definition?.childForFieldName('property');
      if (name?.text === member && definition?.type !== 'class_definition')
        splices.push({ start: name.startIndex, end: name.endIndex, text: newName });
    }
    if (splices.length === 0) return [];
  }
  const python = isPython(grammar);
  const accessType = python ? 'attribute' : 'member_expression';
  for (const node of root.descendantsOfType(accessType)) {
    if (!node) continue;
    const object = node.childForFieldName('object');
    const property = node.childForFieldName(python ? 'attribute' : 'property');
    if (!object || property?.text !== member) continue;
    const inside =
      owner !== undefined && node.startIndex >= owner.node.startIndex && node.endIndex <= owner.node.endIndex;
    const self = python ? ['self', 'cls', 'super()'] : ['this', 'super'];
    if (object.text === className || (inside && self.includes(object.text)))
      splices.push({ start: property.startIndex, end: property.endIndex, text: newName });
  }
  return splices;
}

// ---------------------------------------------------------------------------------------------------------
// Repository scope

function renameAcrossRepository(
  context: EditContext,
  payload: ActionPayload<'rename_symbol'>,
  grammar: SourceGrammar,
  owner: string,
  member: string | undefined,
): void {
  const python = isPython(grammar);
  const family = python ? PYTHON_EXTENSIONS : SCRIPT_EXTENSIONS;
  const files = listRepositoryFiles(context.root, context.maxRepositoryFiles, context.notes, (file) =>
    family.test(file),
  ).filter((file) => file !== normaliseRepoPath(payload.path));
  let touched = 0;
  for (const file of files) {
    const fileGrammar = grammarFor(file)!;
    // A quick look first, so only files that mention the name are held in memory.
    try {
      if (!readFileSync(join(context.root, file), 'utf8').includes(owner)) continue;
    } catch {
      continue;
    }
    let text: string;
    try {
      text = context.ws.read(file, 'rename_symbol');
    } catch {
      continue;
    }
    const parsed = context.parsers.parse(fileGrammar, text);
    let splices: Splice[];
    try {
      const tree = parsed.tree;
      if (tree.rootNode.hasError) {
        context.notes.push(`rename_symbol: skipped ${file}, which does not parse`);
        continue;
      }
      splices = python
        ? pythonReferences(tree.rootNode, file, payload.path, owner, member, payload.new_name)
        : scriptReferences(tree.rootNode, fileGrammar, file, payload.path, owner, member, payload.new_name);
    } finally {
      parsed.release();
    }
    if (splices.length === 0) continue;
    context.ws.write(file, applySplices(text, splices));
    touched += 1;
  }
  context.notes.push(
    `rename_symbol: renamed ${payload.old_name} in ${payload.path} and ${touched} other file${touched === 1 ? ' that imports' : 's that import'} it`,
  );
}

/** Repo-relative files, walked without following symbolic links, skipping hidden and build folders. */
export function listRepositoryFiles(
  root: string,
  limit: number,
  notes: string[],
  wanted: (path: string) => boolean,
): string[] {
  const files: string[] = [];
  const queue = [''];
  while (queue.length > 0) {
    const folder = queue.shift()!;
    let entries: string[];
    try {
      entries = readdirSync(join(root, folder)).sort();
    } catch {
      continue;
    }
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const path = folder === '' ? name : `${folder}/${name}`;
      let stats;
      try {
        stats = lstatSync(join(root, path));
      } catch {
        continue;
      }
      if (stats.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(name)) queue.push(path);
      } else if (stats.isFile() && stats.size <= 1024 * 1024 && wanted(path)) {
        files.push(path);
        if (files.length >= limit) {
          notes.push(`rename_symbol: looked at the first ${limit} files of the repository only`);
          return files;
        }
      }
    }
  }
  return files;
}

/** The dotted module names a Python file can be imported as (`app/calc.py` → `app.calc`, `src/app/…` → `app.…`). */
function pythonModuleNames(path: string): string[] {
  const dotted = path
    .replace(/\.pyi?$/u, '')
    .replace(/\/__init__$/u, '')
    .split('/')
    .join('.');
  const names = [dotted];
  for (const prefix of ['src.', 'lib.']) if (dotted.startsWith(prefix)) names.push(dotted.slice(prefix.length));
  return names;
}

/** The module an import in `importer` names, resolved to dotted form (relative imports included). */
function resolvePythonModule(importer: string, module: string): string {
  const match = /^(\.+)(.*)$/u.exec(module);
  if (!match) return module;
  const parts = importer.split('/').slice(0, -1);
  const up = match[1].length - 1;
  const base = parts.slice(0, Math.max(0, parts.length - up));
  return [...base, ...(match[2] ? match[2].split('.') : [])].filter(Boolean).join('.');
}

function pythonReferences(
  root: Node,
  file: string,
  definingPath: string,
  owner: string,
  member: string | undefined,
  newName: string,
): Splice[] {
  const targets = new Set(pythonModuleNames(definingPath));
  const sameFolder = posix.dirname(file) === posix.dirname(definingPath);
  const bare = posix.basename(definingPath).replace(/\.pyi?$/u, '');
  const isTarget = (module: string): boolean =>
    targets.has(resolvePythonModule(file, module)) || (sameFolder && module === bare);
  const splices: Splice[] = [];
  let renameUses = false;
  const moduleAliases: string[] = [];
  for (const entry of importsIn(root, 'python')) {
    if (entry.plainImport) {
      // `import app.calc [as c]` → `app.calc.add` / `c.add`.
      const binding = entry.bindings[0];
      if (isTarget(entry.module))
        moduleAliases.push(binding.node.type === 'aliased_import' ? binding.local : entry.module);
      continue;
    }
    const resolved = resolvePythonModule(file, entry.module);
    if (isTarget(entry.module)) {
      for (const binding of entry.bindings) {
        if (binding.kind === 'star') renameUses = !hasSymbol(root, 'python', owner) || renameUses;
        else if (binding.imported === owner && member === undefined) {
          splices.push({ start: binding.importedNode.startIndex, end: binding.importedNode.endIndex, text: newName });
          if (binding.local === owner) renameUses = true;
        }
      }
    } else {
      // `from app import calc [as c]` → `calc.add`.
      for (const binding of entry.bindings)
        if (binding.kind === 'named' && targets.has(`${resolved}.${binding.imported}`))
          moduleAliases.push(binding.local);
    }
  }
  if (member !== undefined) {
    // `Class.member` in a file that imports the class.
    const importsClass = importsIn(root, 'python').some(
      (entry) =>
        isTarget(entry.module) &&
        entry.bindings.some((binding) => binding.imported === owner && binding.local === owner),
    );
    return importsClass ? renameMember(root, 'python', owner, member, newName, false) : [];
  }
  if (renameUses) {
    for (const splice of renameIdentifiers(root, 'python', owner, newName))
      if (!splices.some((existing) => existing.start === splice.start)) splices.push(splice);
  }
  for (const node of root.descendantsOfType('attribute')) {
    if (!node) continue;
    const object = node.childForFieldName('object');
    const attribute = node.childForFieldName('attribute');
    if (object && attribute?.text === owner && moduleAliases.includes(object.text))
      splices.push({ start: attribute.startIndex, end: attribute.endIndex, text: newName });
  }
  return dedupe(splices);
}

const SCRIPT_RESOLUTION = [
  '',
  '.ts',
  '.tsx',
  '.mts',
  '.cts',
  '.js',
  '.jsx',
  '.mjs',
  '.cjs',
  '/index.ts',
  '/index.tsx',
  '/index.js',
];

/** Whether a relative specifier in `importer` names `target` (`./calc`, `./calc.js` for calc.ts, folders' index). */
function specifierNames(importer: string, specifier: string, target: string): boolean {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return false;
  const base = posix.normalize(posix.join(posix.dirname(importer), specifier));
  const stripped = base.replace(/\.(?:[cm]?js|jsx)$/u, '');
  return SCRIPT_RESOLUTION.some((suffix) => base + suffix === target || stripped + suffix === target);
}

function scriptReferences(
  root: Node,
  grammar: SourceGrammar,
  file: string,
  definingPath: string,
  owner: string,
  member: string | undefined,
  newName: string,
): Splice[] {
  const splices: Splice[] = [];
  let renameUses = false;
  const namespaces: string[] = [];
  const entries: ImportEntry[] = importsIn(root, grammar).filter((entry) =>
    specifierNames(file, entry.module, definingPath),
  );
  for (const entry of entries) {
    for (const binding of entry.bindings) {
      if (binding.kind === 'namespace') namespaces.push(binding.local);
      else if (binding.kind === 'named' && binding.imported === owner) {
        if (member !== undefined) {
          if (binding.local === owner) renameUses = true;
          continue;
        }
        splices.push({ start: binding.importedNode.startIndex, end: binding.importedNode.endIndex, text: newName });
        if (binding.local === owner) renameUses = true;
      }
    }
  }
  // `export { add } from './calc'`.
  for (const statement of kids(root)) {
    if (statement.type !== 'export_statement') continue;
    const source = statement.childForFieldName('source');
    if (!source || !specifierNames(file, stringValue(source), definingPath)) continue;
    for (const clause of kids(statement).filter((child) => child.type === 'export_clause'))
      for (const specifier of kids(clause)) {
        const name = specifier.childForFieldName('name');
        if (name?.text === owner && member === undefined) {
          const alias = specifier.childForFieldName('alias');
          splices.push({
            start: name.startIndex,
            end: name.endIndex,
            text: alias ? newName : `${newName} as ${owner}`,
          });
        }
      }
  }
  if (member !== undefined) return renameUses ? renameMember(root, grammar, owner, member, newName, false) : [];
  if (renameUses) {
    for (const splice of renameIdentifiers(root, grammar, owner, newName))
      if (!splices.some((existing) => existing.start === splice.start)) splices.push(splice);
  }
  for (const node of root.descendantsOfType('member_expression')) {
    if (!node) continue;
    const object = node.childForFieldName('object');
    const property = node.childForFieldName('property');
    if (object && property?.text === owner && namespaces.includes(object.text))
      splices.push({ start: property.startIndex, end: property.endIndex, text: newName });
  }
  return dedupe(splices);
}

function dedupe(splices: Splice[]): Splice[] {
  const seen = new Set<number>();
  return splices.filter((splice) => (seen.has(splice.start) ? false : (seen.add(splice.start), true)));
}
