/**
 * The heuristic rules that add something: functions, methods, classes, interfaces, type aliases, docstrings,
 * imports, exports, tests, files, appended text. With a repository view they check the target first (a
 * symbol that already exists, a class that does not, an import already present → a question) and follow the
 * repository's test layout; code is generated as stubs that raise until implemented.
 */
import { posix } from 'node:path';
import { NerionError } from '@nerion/backend-core';
import type { PlanCondition, PlanLanguage } from '../plan-schema.js';
import { findImports, findSymbol, sourceLanguageOf } from '../source/index.js';
import {
  IDENT,
  ask,
  isName,
  needLanguage,
  needSource,
  needTarget,
  quotedSegments,
  type Context,
  type Rule,
} from './context.js';

/** The description after "that …"/"which …"/"to …", used as a docstring. */
function description(instruction: string, after: RegExp): string | undefined {
  const match = after.exec(instruction);
  const text = match?.[1]
    ?.trim()
    .replace(/^["'\x60]|["'\x60]$/gu, '')
    .replace(/[.\s]+$/u, '');
  if (!text) return undefined;
  return text.charAt(0).toUpperCase() + text.slice(1) + '.';
}

function quoted(instruction: string): string | undefined {
  return quotedSegments(instruction)[0];
}

function parseParams(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

export function humanise(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/gu, '$1 $2')
    .replace(/_/gu, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function pythonDocstring(text: string, indent: string): string {
  return `${indent}"""${text.replace(/"""/gu, '\\"\\"\\"')}"""`;
}

function jsDoc(text: string, indent = ''): string {
  return `${indent}/**\n${indent} * ${text.replace(/\*\//gu, '*\\/')}\n${indent} */`;
}

function functionCode(
  language: PlanLanguage,
  name: string,
  params: string[],
  docstring: string,
  isAsync: boolean,
  exported: boolean,
): string {
  if (language === 'python') {
    const names = params.map((param) => param.replace(/\s*:.*$/u, '').trim());
    return `${isAsync ? 'async ' : ''}def ${name}(${names.join(', ')}):\n${pythonDocstring(docstring, '    ')}\n    raise NotImplementedError("${name} is not implemented yet")\n`;
  }
  const typed = language === 'typescript';
  const list = params.map((param) => (typed && !param.includes(':') ? `${param}: unknown` : param)).join(', ');
  const returns = typed ? (isAsync ? ': Promise<unknown>' : ': unknown') : '';
  return `${jsDoc(docstring)}\n${exported ? 'export ' : ''}${isAsync ? 'async ' : ''}function ${name}(${list})${returns} {\n  throw new Error('${name} is not implemented yet');\n}\n`;
}

function classCode(
  language: PlanLanguage,
  name: string,
  docstring: string,
  base: string | undefined,
  exported: boolean,
): string {
  if (language === 'python')
    return `class ${name}${base ? `(${base})` : ''}:\n${pythonDocstring(docstring, '    ')}\n\n    pass\n`;
  return `${jsDoc(docstring)}\n${exported ? 'export ' : ''}class ${name}${base ? ` extends ${base}` : ''} {}\n`;
}

/** file_exists when the repository shows the target exists (edits to an existing file). */
function existingFile(context: Context, path: string): PlanCondition[] {
  return context.text !== undefined ? [{ kind: 'file_exists', path }] : [];
}

/** Asks when the target already defines `name` (at the top level, or in `className`). */
function refuseExisting(context: Context, rule: string, name: string, className?: string): void {
  if (!context.source) return;
  const qualified = className ? `${className}.${name}` : name;
  const existing = findSymbol(context.source, qualified);
  if (existing && (className !== undefined || existing.className === undefined))
    ask(
      rule,
      `${context.target} already defines ${qualified} (line ${existing.startLine}); replace it, or choose another name?`,
    );
}

const FUNCTION_HEAD = String.raw`\b(?:add|create|write|insert|implement|define|make|generate|introduce|put)\s+(?:an?\s+|the\s+)?(?:new\s+)?(?:(async)\s+)?(?:(exported)\s+)?`;

export const addFunction: Rule = (context) => {
  const text = context.instruction;
  // add a (helper|utility) (function|method) (called|named) NAME(params) / add a helper NAME / add a helper called NAME
  const match =
    new RegExp(
      String.raw`${FUNCTION_HEAD}(?:(?:helper|utility)\s+)?(function|method|func|def)\s+(?:called\s+|named\s+)?[\x60'"]?(${IDENT})[\x60'"]?(?:\s*\(([^)]*)\))?`,
      'iu',
    ).exec(text) ??
    new RegExp(
      String.raw`${FUNCTION_HEAD}(helper|utility)\s+(?:called\s+|named\s+)?[\x60'"]?(${IDENT})[\x60'"]?(?:\s*\(([^)]*)\))?`,
      'iu',
    ).exec(text);
  if (!match || !isName(match[4])) return undefined;
  const name = match[4];
  const rule = 'insert_function';
  const path = needTarget(context, `add the function ${name}`);
  const language = needLanguage(context, path);
  const isAsync = match[1] !== undefined;
  const classMatch =
    new RegExp(String.raw`\b(?:to|in|into|on|of)\s+(?:the\s+)?class\s+[\x60'"]?(${IDENT})`, 'iu').exec(text) ??
    new RegExp(String.raw`\b(?:to|in|into|on|of)\s+(?:the\s+)?[\x60'"]?(${IDENT})[\x60'"]?\s+class\b`, 'iu').exec(text);
  const className = classMatch?.[1];
  if (context.source) {
    if (className !== undefined) {
      const owner = findSymbol(context.source, className);
      if (!owner || owner.kind !== 'class')
        ask(rule, `${path} has no class ${className} to add the method ${name} to.`);
    }
    refuseExisting(context, rule, name, className);
  }
  const docstring =
    description(
      text,
      /\b(?:that|which|to)\s+((?!(?:the\s+)?(?:file|class)\b)(?!(?:the\s+)?\S+\s+class\b)(?![\w./-]+\.\w+\b).+?)(?:\s+(?:in|to|into)\s+(?:the\s+)?(?:file\s+)?[\w./-]+\.\w+)?$/iu,
    ) ?? `${humanise(name)}.`;
  const exported = language !== 'python' && className === undefined;
  const notes =
    match[5] === undefined
      ? [`No parameters were named; ${name} is a stub without parameters that raises until it is implemented.`]
      : [];
  const params = parseParams(match[5]);
  let code = functionCode(language, name, params, docstring, isAsync, exported);
  if (className !== undefined && language !== 'python') {
    code = `${jsDoc(docstring, '  ')}\n  ${isAsync ? 'async ' : ''}${name}(${params
      .map((param) => (language === 'typescript' && !param.includes(':') ? `${param}: unknown` : param))
      .join(
        ', ',
      )})${language === 'typescript' ? ': unknown' : ''} {\n    throw new Error('${name} is not implemented yet');\n  }\n`;
  } else if (className !== undefined) {
    const names = ['self', ...params.map((param) => param.replace(/\s*:.*$/u, ''))];
    code = `    ${isAsync ? 'async ' : ''}def ${name}(${names.join(', ')}):\n${pythonDocstring(docstring, '        ')}\n        raise NotImplementedError("${name} is not implemented yet")\n`;
  }
  const preconditions: PlanCondition[] = [
    ...existingFile(context, path),
    ...(className !== undefined && context.source ? [{ kind: 'symbol_exists' as const, path, symbol: className }] : []),
  ];
  return {
    rule,
    actions: [
      {
        kind: 'insert_function',
        payload: {
          path,
          language,
          name,
          code,
          docstring,
          ...(className ? { class_name: className } : {}),
          ...(language === 'python' ? {} : { exported }),
        },
      },
    ],
    ...(preconditions.length > 0 ? { preconditions } : {}),
    postconditions: [{ kind: 'symbol_exists', path, symbol: className ? `${className}.${name}` : name }],
    ...(notes.length > 0 ? { notes } : {}),
  };
};

export const addClass: Rule = (context) => {
  const match = new RegExp(
    String.raw`\b(?:add|create|write|insert|define|make|introduce)\s+(?:an?\s+|the\s+)?(?:new\s+)?(?:(exported)\s+)?class\s+(?:called\s+|named\s+)?[\x60'"]?(${IDENT})[\x60'"]?(?:\s*(?:\(\s*(${IDENT})\s*\)|(?:extends|inheriting from|deriving from|that extends|subclassing)\s+(${IDENT})))?`,
    'iu',
  ).exec(context.instruction);
  if (!match || !isName(match[2])) return undefined;
  const name = match[2];
  const rule = 'insert_class';
  const path = needTarget(context, `add the class ${name}`);
  const language = needLanguage(context, path);
  refuseExisting(context, rule, name);
  const docstring =
    description(
      context.instruction,
      /\b(?:that|which)\s+(?!extends\b)(.+?)(?:\s+(?:in|to|into)\s+(?:the\s+)?(?:file\s+)?[\w./-]+\.\w+)?$/iu,
    ) ?? `${humanise(name)}.`;
  const exported = language !== 'python';
  const preconditions = existingFile(context, path);
  return {
    rule,
    actions: [
      {
        kind: 'insert_class',
        payload: {
          path,
          language,
          name,
          code: classCode(language, name, docstring, match[3] ?? match[4], exported),
          docstring,
          ...(language === 'python' ? {} : { exported }),
        },
      },
    ],
    ...(preconditions.length > 0 ? { preconditions } : {}),
    postconditions: [{ kind: 'symbol_exists', path, symbol: name }],
  };
};

export const addInterfaceOrType: Rule = (context) => {
  const match = new RegExp(
    String.raw`\b(?:add|create|define|declare|write|introduce)\s+(?:an?\s+)?(?:new\s+)?(interface|type alias|type)\s+(?:called\s+|named\s+)?[\x60'"]?(${IDENT})[\x60'"]?`,
    'iu',
  ).exec(context.instruction);
  if (!match || !isName(match[2])) return undefined;
  const name = match[2];
  const isInterface = match[1].toLowerCase() === 'interface';
  const rule = isInterface ? 'insert_interface' : 'insert_type_alias';
  const path = needTarget(context, `add the ${isInterface ? 'interface' : 'type'} ${name}`);
  const language = needLanguage(context, path);
  if (language !== 'typescript')
    throw new NerionError(
      'INVALID_REQUEST',
      `Interfaces and type aliases need a TypeScript file; "${path}" is ${language}.`,
      {
        data: { path },
      },
    );
  refuseExisting(context, rule, name);
  const docstring =
    description(
      context.instruction,
      /\b(?:that|which|for)\s+(.+?)(?:\s+(?:in|to|into)\s+(?:the\s+)?(?:file\s+)?[\w./-]+\.\w+)?$/iu,
    ) ?? `${humanise(name)}.`;
  const code = isInterface
    ? `${jsDoc(docstring)}\nexport interface ${name} {}\n`
    : `${jsDoc(docstring)}\nexport type ${name} = unknown;\n`;
  const preconditions = existingFile(context, path);
  return {
    rule,
    actions: [
      {
        kind: isInterface ? 'insert_interface' : 'insert_type_alias',
        payload: { path, language: 'typescript', name, code, exported: true },
      },
    ],
    ...(preconditions.length > 0 ? { preconditions } : {}),
    postconditions: [{ kind: 'symbol_exists', path, symbol: name }],
  };
};

export const addModuleDocstring: Rule = (context) => {
  if (
    !/\b(?:module|file)[\s-]+(?:level\s+)?doc(?:string|comment)?\b|\bdocstring\s+(?:to|for)\s+(?:the\s+)?(?:module|file)\b/iu.test(
      context.instruction,
    )
  )
    return undefined;
  const path = needTarget(context, 'add a module docstring');
  const language = needLanguage(context, path);
  const base = path
    .split('/')
    .pop()!
    .replace(/\.[^.]+$/u, '');
  const given = quoted(context.instruction);
  const docstring = given ?? `${humanise(base)} module.`;
  return {
    rule: 'add_module_docstring',
    actions: [{ kind: 'add_module_docstring', payload: { path, language, docstring } }],
    preconditions: [{ kind: 'file_exists', path }],
    ...(given
      ? {}
      : { notes: ['No docstring text was given; the plan uses a placeholder derived from the file name.'] }),
  };
};

export const addFunctionDocstring: Rule = (context) => {
  const text = context.instruction;
  const docText = String.raw`(?:["'\x60“][^"'\x60”]*["'\x60”]\s+)?`;
  const match =
    new RegExp(
      String.raw`\b(?:add|write|put|insert|create)\s+(?:an?\s+|the\s+)?(?:docstring|doc comment|doc-comment|jsdoc|documentation|doc)\s+${docText}(?:to|for|on)\s+(?:the\s+)?(?:(?:function|method|def|helper)\s+)?[\x60'"]?(?:(${IDENT})\.)?(${IDENT})[\x60'"]?(?:\s+(?:of|in)\s+(?:the\s+)?class\s+(${IDENT}))?`,
      'iu',
    ).exec(text) ??
    new RegExp(
      String.raw`\bdocument\s+(?:the\s+)?(?:function|method)\s+[\x60'"]?(?:(${IDENT})\.)?(${IDENT})[\x60'"]?(?:\s+(?:of|in)\s+(?:the\s+)?class\s+(${IDENT}))?`,
      'iu',
    ).exec(text);
  if (!match) return undefined;
  const name = match[2];
  if (/^(module|file|class)$/iu.test(name)) return undefined;
  const rule = 'add_function_docstring';
  const path = needTarget(context, `document the function ${name}`);
  const language = needLanguage(context, path);
  let className: string | undefined = match[1] ?? match[3];
  if (context.repository) {
    const source = needSource(context, rule, `document ${name}`)!;
    const symbol = findSymbol(source, className ? `${className}.${name}` : name);
    if (!symbol || (symbol.kind !== 'function' && symbol.kind !== 'method'))
      ask(rule, `${path} has no function or method named ${className ? `${className}.${name}` : name}.`);
    className = symbol.className;
  }
  const given = quoted(text);
  const qualified = className ? `${className}.${name}` : name;
  return {
    rule,
    actions: [
      {
        kind: 'add_function_docstring',
        payload: {
          path,
          language,
          function_name: name,
          ...(className ? { class_name: className } : {}),
          docstring: given ?? `${humanise(name)}.`,
        },
      },
    ],
    preconditions: [
      ...(context.repository ? [{ kind: 'file_exists' as const, path }] : []),
      { kind: 'symbol_exists', path, symbol: qualified },
    ],
    ...(given
      ? {}
      : { notes: ['No docstring text was given; the plan uses a placeholder derived from the function name.'] }),
  };
};

interface ImportSpec {
  module: string;
  names?: string[];
  defaultName?: string;
  namespace?: string;
  statement?: string;
}

/** A quoted import statement (`insert 'import logging'`), read with the parser of the target's language. */
function quotedImport(context: Context, language: PlanLanguage): ImportSpec | undefined {
  for (const segment of quotedSegments(context.instruction)) {
    const statement = segment.trim();
    if (!/^(?:import|from)\s/u.test(statement)) continue;
    const parser = context.repository?.parser;
    const parsed = parser?.parse(language === 'python' ? 'snippet.py' : 'snippet.ts', statement);
    if (parsed) {
      try {
        const found = findImports(parsed);
        const first = found[0];
        if (!first || found.length !== 1 || first.text.length < statement.replace(/;$/u, '').length) continue;
        return {
          module: first.module,
          ...(first.names.length > 0 ? { names: first.names.map((name) => name.name) } : {}),
          ...(first.defaultName ? { defaultName: first.defaultName } : {}),
          ...(first.namespace ? { namespace: first.namespace } : {}),
          statement,
        };
      } finally {
        parsed.release();
      }
    }
    // No repository view: the common one-line forms.
    const from = /^from\s+([\w.]+)\s+import\s+([\w\s,]+)$/u.exec(statement);
    if (from) return { module: from[1], names: from[2].split(',').map((n) => n.trim()), statement };
    const plain = /^import\s+([\w.]+)$/u.exec(statement);
    if (plain) return { module: plain[1], statement };
    const es = /^import\s+\{\s*([\w\s,]+)\}\s+from\s+['"]([^'"]+)['"];?$/u.exec(statement);
    if (es)
      return {
        module: es[2],
        names: es[1]
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean),
        statement,
      };
  }
  return undefined;
}

export const insertImport: Rule = (context) => {
  const text = context.instruction;
  const hasQuotedImport = quotedSegments(text).some((segment) => /^\s*(?:import|from)\s/u.test(segment));
  const fromImport = new RegExp(String.raw`\bfrom\s+([\w.]+)\s+import\s+(${IDENT}(?:\s*,\s*${IDENT})*)`, 'u').exec(
    context.unquoted,
  );
  const importFrom = new RegExp(
    String.raw`\b(?:add\s+(?:an?\s+)?)?import\s+(?:of\s+)?(?:\{\s*)?(${IDENT}(?:\s*,\s*${IDENT})*)(?:\s*\})?\s+from\s+["'\x60]?([@\w./:-]+?)["'\x60]?(?=$|\s|[,;])`,
    'iu',
  ).exec(text);
  const bare = new RegExp(
    String.raw`\b(?:add\s+(?:an?\s+)?)?import\s+(?:of\s+)?(?:the\s+)?(?:module\s+)?["'\x60]?([@\w./:-]+?)["'\x60]?(?:\s+(?:module|package))?(?:\s+(?:to|in|into|at)\s|$)`,
    'iu',
  ).exec(text);
  if (!hasQuotedImport && !fromImport && !importFrom && !bare) return undefined;
  const rule = 'insert_import';
  const path = needTarget(context, 'add an import');
  const language = needLanguage(context, path);
  let spec: ImportSpec | undefined = hasQuotedImport ? quotedImport(context, language) : undefined;
  if (hasQuotedImport && !spec)
    ask(rule, 'The quoted import statement could not be read; write it as e.g. "import logging".');
  if (!spec && fromImport) spec = { module: fromImport[1], names: fromImport[2].split(',').map((name) => name.trim()) };
  else if (!spec && importFrom)
    spec = { module: importFrom[2], names: importFrom[1].split(',').map((name) => name.trim()) };
  else if (!spec) {
    const module = bare![1];
    if (
      module === path ||
      (sourceLanguageOf(module) !== undefined && module.includes('/') && module === context.target)
    )
      return undefined;
    if (/^(?:from|of|the|to|in|into|statement|line)$/iu.test(module)) return undefined;
    spec = { module };
  }
  let statement = spec.statement;
  if (statement === undefined) {
    if (language === 'python')
      statement = spec.names ? `from ${spec.module} import ${spec.names.join(', ')}` : `import ${spec.module}`;
    else
      statement = spec.names
        ? `import { ${spec.names.join(', ')} } from '${spec.module}';`
        : `import '${spec.module}';`;
  }
  if (context.source) {
    const present = findImports(context.source).find(
      (item) =>
        item.style !== 'reexport' &&
        item.module === spec.module &&
        (spec.names === undefined
          ? item.names.length === 0 && item.defaultName === spec.defaultName && item.namespace === spec.namespace
          : spec.names.every((name) => item.names.some((imported) => imported.name === name))),
    );
    if (present) ask(rule, `${path} already has this import on line ${present.startLine} (${present.text}).`);
  }
  const preconditions = existingFile(context, path);
  return {
    rule,
    actions: [
      {
        kind: 'insert_import',
        payload: {
          path,
          language,
          module: spec.module,
          ...(spec.names ? { names: spec.names } : {}),
          ...(spec.defaultName ? { default_name: spec.defaultName } : {}),
          ...(spec.namespace ? { namespace: spec.namespace } : {}),
          statement,
        },
      },
    ],
    ...(preconditions.length > 0 ? { preconditions } : {}),
  };
};

export const exportSymbol: Rule = (context) => {
  const match = new RegExp(
    String.raw`\bexport\s+(default\s+)?(?:the\s+)?(?:function|class|const|symbol|variable|interface|type)?\s*[\x60'"]?(${IDENT}(?:\s*(?:,|and)\s*${IDENT})*)[\x60'"]?(?:\s+as default)?`,
    'iu',
  ).exec(context.instruction);
  if (!match || /^(from|to|in)$/iu.test(match[2])) return undefined;
  const rule = 'export';
  const path = needTarget(context, 'export a symbol');
  const language = needLanguage(context, path);
  if (language === 'python')
    throw new NerionError(
      'INVALID_REQUEST',
      `Exports are a TypeScript/JavaScript notion; "${path}" is Python (add the name to __all__ instead, e.g. with --llm).`,
      { data: { path } },
    );
  const isDefault = match[1] !== undefined || /\bas default\b/iu.test(context.instruction);
  const names = match[2].split(/\s*(?:,|\band\b)\s*/u).filter(Boolean);
  const preconditions: PlanCondition[] = [];
  if (context.repository) {
    const source = needSource(context, rule, 'export from it')!;
    for (const name of names) {
      const symbol = findSymbol(source, name);
      if (!symbol || symbol.className !== undefined) ask(rule, `${path} declares no top-level ${name} to export.`);
      if (isDefault ? symbol.exportDefault : symbol.exported)
        ask(rule, `${name} is already ${isDefault ? 'the default export' : 'exported'} in ${path}.`);
    }
    preconditions.push(
      { kind: 'file_exists', path },
      ...names.map((name) => ({ kind: 'symbol_exists' as const, path, symbol: name })),
    );
  }
  const conditions = preconditions.length > 0 ? { preconditions } : {};
  if (isDefault)
    return {
      rule: 'export_default',
      actions: [{ kind: 'export_default', payload: { path, language, name: names[0] } }],
      ...conditions,
    };
  return {
    rule: 'export_named',
    actions: [{ kind: 'export_named', payload: { path, language, names } }],
    ...conditions,
  };
};

type Framework = 'pytest' | 'jest' | 'vitest' | 'node:test' | 'mocha';

/** The script test framework the repository uses, from package.json (dependencies and the test script). */
function scriptFramework(context: Context): { framework: Framework; reason: string } {
  const manifest = context.repository?.packageJson();
  if (!manifest) return { framework: 'jest', reason: 'no package.json was found; jest is the default' };
  const deps = {
    ...(manifest.dependencies as Record<string, unknown> | undefined),
    ...(manifest.devDependencies as Record<string, unknown> | undefined),
  };
  const test = (manifest.scripts as Record<string, unknown> | undefined)?.test;
  const script = typeof test === 'string' ? test : '';
  if ('vitest' in deps || /\bvitest\b/u.test(script))
    return { framework: 'vitest', reason: 'package.json uses vitest' };
  if ('jest' in deps || 'ts-jest' in deps || /\bjest\b/u.test(script))
    return { framework: 'jest', reason: 'package.json uses jest' };
  if ('mocha' in deps || /\bmocha\b/u.test(script)) return { framework: 'mocha', reason: 'package.json uses mocha' };
  if (/\bnode\s+(?:[^|&;]*\s)?--test\b/u.test(script))
    return { framework: 'node:test', reason: 'package.json runs node --test' };
  return { framework: 'jest', reason: 'package.json names no test framework; jest is the default' };
}

/** Where the repository keeps tests: a root folder (`tests/`, `test/`, `__tests__/`) or next to the sources. */
function testLayout(context: Context, python: boolean): { folder?: string; reason: string } {
  const repository = context.repository;
  if (!repository)
    return python
      ? { folder: 'tests', reason: 'pytest files go under tests/' }
      : { reason: 'test files go next to the source' };
  const candidates = python ? ['tests', 'test'] : ['test', 'tests', '__tests__'];
  for (const folder of candidates)
    if (repository.isDirectory(folder)) return { folder, reason: `the repository keeps tests in ${folder}/` };
  const files = repository.sourceFiles();
  const pattern = python ? /(^|\/)(test_[^/]+|[^/]+_test)\.py$/u : /\.(?:test|spec)\.[cm]?[jt]sx?$/u;
  if (files.some((file) => pattern.test(file))) return { reason: 'the repository keeps tests next to the sources' };
  return python
    ? { folder: 'tests', reason: 'the repository has no tests yet; pytest files go under tests/' }
    : { reason: 'the repository has no tests yet; test files go next to the source' };
}

export const ensureTest: Rule = (context) => {
  const match = new RegExp(
    String.raw`\b(?:add|write|create|ensure|generate)\s+(?:an?\s+|the\s+|some\s+)?(?:unit\s+|pytest\s+|jest\s+|vitest\s+)?tests?\s+(?:case\s+)?(?:for|of|covering|that covers)\s+(?:the\s+)?(?:function\s+|class\s+|method\s+)?[\x60'"]?(${IDENT})[\x60'"]?`,
    'iu',
  ).exec(context.instruction);
  if (!match || !isName(match[1])) return undefined;
  const name = match[1];
  const rule = 'ensure_test';
  const path = needTarget(context, `add a test for ${name}`);
  const language = needLanguage(context, path);
  const preconditions: PlanCondition[] = [];
  if (context.repository) {
    const source = needSource(context, rule, `test ${name}`)!;
    const symbol = findSymbol(source, name);
    if (!symbol || symbol.className !== undefined) ask(rule, `${path} has no top-level ${name} to test.`);
    if (language !== 'python' && !symbol.exported)
      ask(rule, `${name} is not exported from ${path}, so a test file cannot import it; export it first?`);
    preconditions.push({ kind: 'file_exists', path }, { kind: 'symbol_exists', path, symbol: name });
  }
  const directory = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  const file = path.slice(directory.length);
  const base = file.replace(/\.[^.]+$/u, '');
  const extension = file.slice(base.length);
  const conditions = preconditions.length > 0 ? { preconditions } : {};
  if (language === 'python') {
    const layout = testLayout(context, true);
    const testPath = layout.folder ? `${layout.folder}/test_${base}.py` : `${directory}test_${base}.py`;
    const module = path
      .replace(/^src\//u, '')
      .replace(/\.pyi?$/u, '')
      .replace(/\/__init__$/u, '')
      .replace(/\//gu, '.');
    const code = `from ${module} import ${name}\n\n\ndef test_${name}():\n    assert callable(${name})\n`;
    return {
      rule,
      actions: [
        {
          kind: 'ensure_test',
          payload: { path, test_path: testPath, language, framework: 'pytest', test_name: `test_${name}`, code },
        },
      ],
      ...conditions,
      notes: [`pytest: ${layout.reason}.`],
    };
  }
  const { framework, reason } = scriptFramework(context);
  const layout = testLayout(context, false);
  const testDirectory = layout.folder ? `${layout.folder}/` : directory;
  const testPath = `${testDirectory}${base}.test${extension}`;
  const manifest = context.repository?.packageJson();
  const esm = manifest === undefined ? true : manifest.type === 'module';
  let importPath = posix.relative(testDirectory.replace(/\/$/u, '') || '.', directory.replace(/\/$/u, '') || '.');
  importPath = `${importPath === '' ? '.' : importPath.startsWith('.') ? importPath : `./${importPath}`}/${base}`;
  importPath = importPath.replace(/^\.\/\.\.\//u, '../');
  if (esm)
    importPath += extension
      .replace(/^\.tsx?$/u, '.js')
      .replace(/^\.mts$/u, '.mjs')
      .replace(/^\.cts$/u, '.cjs');
  const testName = `${name} is defined`;
  const header =
    framework === 'vitest'
      ? `import { expect, test } from 'vitest';\n`
      : framework === 'node:test'
        ? `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n`
        : framework === 'mocha'
          ? `import assert from 'node:assert/strict';\n`
          : '';
  const body =
    framework === 'node:test' || framework === 'mocha'
      ? `${framework === 'mocha' ? 'it' : 'test'}('${testName}', () => {\n  assert.notEqual(${name}, undefined);\n});\n`
      : `test('${testName}', () => {\n  expect(${name}).toBeDefined();\n});\n`;
  const code = `${header}import { ${name} } from '${importPath}';\n\n${body}`;
  return {
    rule,
    actions: [
      {
        kind: 'ensure_test',
        payload: { path, test_path: testPath, language, framework, test_name: testName, code },
      },
    ],
    ...conditions,
    notes: [`${framework}: ${reason}; ${layout.reason}.`],
  };
};

export const createFile: Rule = (context) => {
  if (
    !/\b(?:create|add|make|new|touch|write)\s+(?:an?\s+|the\s+)?(?:new\s+|empty\s+)?(?:file|module|script)\b/iu.test(
      context.instruction,
    )
  )
    return undefined;
  const path = needTarget(context, 'create a file');
  if (context.repository && context.repository.exists(path))
    ask('create_file', `${path} already exists; say what to change in it instead.`);
  const given = /\bwith(?:\s+the)?\s+(?:content|contents|text)\s+["'`]([\s\S]+)["'`]/iu.exec(context.instruction)?.[1];
  const language = sourceLanguageOf(path);
  let content = given === undefined ? '' : `${given.replace(/\\n/gu, '\n')}\n`;
  if (given === undefined && language === 'python')
    content = `"""${humanise(path.split('/').pop()!.replace(/\.py$/u, ''))} module."""\n`;
  return {
    rule: 'create_file',
    actions: [{ kind: 'create_file', payload: { path, content, overwrite: false } }],
    preconditions: [{ kind: 'file_absent', path }],
    postconditions: [{ kind: 'file_exists', path }],
  };
};

export const appendToFile: Rule = (context) => {
  const match =
    /\bappend\s+(?:the\s+)?(?:line\s+|text\s+)?(["'`])([\s\S]+?)\1/iu.exec(context.instruction) ??
    /\bappend\s+([\s\S]+?)\s+(?:to|at the end of)\s+/iu.exec(context.instruction);
  if (!match) return undefined;
  const path = needTarget(context, 'append text');
  const raw = match.length > 2 ? match[2] : match[1];
  const content = `${raw.replace(/\\n/gu, '\n').replace(/\n$/u, '')}\n`;
  return { rule: 'append_to_file', actions: [{ kind: 'append_to_file', payload: { path, content } }] };
};
