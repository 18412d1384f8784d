/**
 * The heuristic planner: recognises common instructions for Python and TypeScript/JavaScript targets and
 * turns them into plans without a model. Deterministic: the same instruction and target give the same plan.
 * An instruction it cannot map asks for clarification (see docs/plans.md).
 */
import { NerionError } from '@nerion/backend-core';
import { checkRepoRelativePath, normaliseRepoPath } from './repo-path.js';
import type { PlanAction, PlanCondition, PlanDraft, PlanLanguage, Plan, PlanMetadata } from './plan-schema.js';
import { finalizePlan } from './plan-validation.js';
import { checkInstructionLength } from './instruction.js';

export interface HeuristicPlanInput {
  instruction: string;
  /** Repo-relative target file (`-f`); otherwise the planner looks for a file name in the instruction. */
  targetFile?: string;
}

export const HEURISTIC_PLANNER_ID = 'heuristic';

const FILE_TOKEN = String.raw`[\w@~+.-]*[\w@~+-](?:/[\w@~+.-]+)*\.[A-Za-z][\w]*`;
const FILE_RE = new RegExp(String.raw`(?:^|[\s"'\x60(])((?:\.{1,2}\/|\/)*${FILE_TOKEN})(?=$|[\s"'\x60),.:;!?])`, 'u');
const IDENT = String.raw`[A-Za-z_$][\w$]*`;

export function languageOf(path: string): PlanLanguage | undefined {
  const extension = /\.([A-Za-z0-9]+)$/u.exec(path)?.[1]?.toLowerCase();
  if (extension === 'py' || extension === 'pyi') return 'python';
  if (extension === 'ts' || extension === 'tsx' || extension === 'mts' || extension === 'cts') return 'typescript';
  if (extension === 'js' || extension === 'jsx' || extension === 'mjs' || extension === 'cjs') return 'javascript';
  return undefined;
}

interface Context {
  instruction: string;
  target: string | undefined;
  language: PlanLanguage | undefined;
}

interface RuleResult {
  rule: string;
  actions: PlanAction[];
  preconditions?: PlanCondition[];
  postconditions?: PlanCondition[];
  questions?: string[];
  notes?: string[];
}

type Rule = (context: Context) => RuleResult | undefined;

/** Plans with the heuristic rules. Throws INVALID_REQUEST when there is neither a known pattern nor a target file. */
export function planHeuristically(input: HeuristicPlanInput): Plan {
  checkInstructionLength(input.instruction);
  const instruction = input.instruction.trim().replace(/\s+/gu, ' ');
  if (instruction.length === 0)
    throw new NerionError(
      'INVALID_REQUEST',
      'The instruction is empty; say what to change, e.g. -i "add a function slugify to src/text.ts".',
    );
  const notes: string[] = [];
  let target = input.targetFile === undefined ? undefined : cleanPath(input.targetFile);
  const mentioned = FILE_RE.exec(instruction)?.[1];
  if (target === undefined && mentioned !== undefined) target = cleanPath(mentioned);
  else if (
    target !== undefined &&
    mentioned !== undefined &&
    cleanPath(mentioned) !== target &&
    languageOf(mentioned) !== undefined
  ) {
    notes.push(`The instruction mentions ${mentioned}; the plan targets ${target} as given by -f.`);
  }
  if (target !== undefined) {
    const reason = checkRepoRelativePath(target);
    if (reason)
      throw new NerionError(
        'PATH_ESCAPE',
        `The target file "${target}" ${reason}; name a file inside the repository.`,
        { data: { path: target } },
      );
  }
  const context: Context = { instruction, target, language: target === undefined ? undefined : languageOf(target) };

  let result: RuleResult | undefined;
  for (const rule of RULES) {
    result = rule(context);
    if (result) break;
  }
  if (!result) result = clarify(context);
  const draft: PlanDraft = {
    ...(target === undefined ? {} : { target_file: target }),
    actions: result.actions,
    ...(result.preconditions ? { preconditions: result.preconditions } : {}),
    ...(result.postconditions ? { postconditions: result.postconditions } : {}),
  };
  const allNotes = [...notes, ...(result.notes ?? [])];
  const metadata: PlanMetadata = {
    source: 'heuristic',
    instruction,
    planner: HEURISTIC_PLANNER_ID,
    ...(context.language ? { language: context.language } : {}),
    rule: result.rule,
    ...(result.questions ? { clarification_needed: true, questions: result.questions } : {}),
    ...(allNotes.length > 0 ? { notes: allNotes } : {}),
  };
  return finalizePlan(draft, metadata);
}

function cleanPath(path: string): string {
  const trimmed = path.trim().replace(/^["'`]|["'`]$/gu, '');
  return checkRepoRelativePath(trimmed) === undefined ? normaliseRepoPath(trimmed) : trimmed;
}

function needTarget(context: Context, what: string): string {
  if (context.target === undefined) {
    throw new NerionError(
      'INVALID_REQUEST',
      `The instruction asks to ${what} but names no file; pass -f FILE or mention the file (e.g. "… in src/app.py").`,
    );
  }
  return context.target;
}

function needLanguage(context: Context, path: string): PlanLanguage {
  const language = languageOf(path);
  if (!language) {
    throw new NerionError(
      'INVALID_REQUEST',
      `The heuristic planner writes code for Python (.py) and TypeScript/JavaScript (.ts, .tsx, .js, .mjs, …) files; "${path}" is neither. Use --llm, or target a supported file.`,
      {
        data: { path },
      },
    );
  }
  return language;
}

/** The description after "that …"/"which …"/"to …", used as a docstring. */
function description(instruction: string, after: RegExp): string | undefined {
  const match = after.exec(instruction);
  const text = match?.[1]?.trim().replace(/[.\s]+$/u, '');
  if (!text) return undefined;
  return text.charAt(0).toUpperCase() + text.slice(1) + '.';
}

function quoted(instruction: string): string | undefined {
  const match = /"([^"]+)"|'([^']+)'|`([^`]+)`/u.exec(instruction);
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}

function parseParams(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function humanise(name: string): string {
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

function commentFor(language: PlanLanguage | undefined, text: string): string {
  const line = text.replace(/\s+/gu, ' ');
  return language === 'python'
    ? `# TODO(nerion): ${line}\n`
    : language
      ? `// TODO(nerion): ${line}\n`
      : `TODO(nerion): ${line}\n`;
}

const addFunction: Rule = (context) => {
  const match = new RegExp(
    String.raw`\b(?:add|create|write|insert|implement|define)\s+(?:an?\s+|the\s+)?(?:new\s+)?(?:(async)\s+)?(?:(exported)\s+)?(?:function|method|func|def)\s+(?:called\s+|named\s+)?\x60?(${IDENT})\x60?(?:\s*\(([^)]*)\))?`,
    'iu',
  ).exec(context.instruction);
  if (!match) return undefined;
  const name = match[3]!;
  const path = needTarget(context, `add the function ${name}`);
  const language = needLanguage(context, path);
  const isAsync = match[1] !== undefined;
  const className = new RegExp(String.raw`\b(?:to|in|into|on)\s+(?:the\s+)?class\s+(${IDENT})`, 'iu').exec(
    context.instruction,
  )?.[1];
  const docstring =
    description(
      context.instruction,
      /\b(?:that|which|to)\s+((?!(?:the\s+)?(?:file|class)\b)(?![\w./-]+\.\w+\b).+?)(?:\s+(?:in|to|into)\s+(?:the\s+)?(?:file\s+)?[\w./-]+\.\w+)?$/iu,
    ) ?? `${humanise(name)}.`;
  const exported = language !== 'python' && className === undefined;
  const notes =
    match[4] === undefined
      ? [`No parameters were named; ${name} is a stub without parameters that raises until it is implemented.`]
      : [];
  let code = functionCode(language, name, parseParams(match[4]), docstring, isAsync, exported);
  if (className !== undefined && language !== 'python') {
    code = `${jsDoc(docstring, '  ')}\n  ${isAsync ? 'async ' : ''}${name}(${parseParams(match[4])
      .map((param) => (language === 'typescript' && !param.includes(':') ? `${param}: unknown` : param))
      .join(
        ', ',
      )})${language === 'typescript' ? ': unknown' : ''} {\n    throw new Error('${name} is not implemented yet');\n  }\n`;
  } else if (className !== undefined) {
    const params = ['self', ...parseParams(match[4]).map((param) => param.replace(/\s*:.*$/u, ''))];
    code = `    ${isAsync ? 'async ' : ''}def ${name}(${params.join(', ')}):\n${pythonDocstring(docstring, '        ')}\n        raise NotImplementedError("${name} is not implemented yet")\n`;
  }
  return {
    rule: 'insert_function',
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
    postconditions: [{ kind: 'symbol_exists', path, symbol: className ? `${className}.${name}` : name }],
    ...(notes.length > 0 ? { notes } : {}),
  };
};

const addClass: Rule = (context) => {
  const match = new RegExp(
    String.raw`\b(?:add|create|write|insert|define)\s+(?:an?\s+|the\s+)?(?:new\s+)?(?:(exported)\s+)?class\s+(?:called\s+|named\s+)?\x60?(${IDENT})\x60?(?:\s*(?:\(\s*(${IDENT})\s*\)|(?:extends|inheriting from|deriving from)\s+(${IDENT})))?`,
    'iu',
  ).exec(context.instruction);
  if (!match) return undefined;
  const name = match[2]!;
  const path = needTarget(context, `add the class ${name}`);
  const language = needLanguage(context, path);
  const docstring =
    description(
      context.instruction,
      /\b(?:that|which)\s+(.+?)(?:\s+(?:in|to|into)\s+(?:the\s+)?(?:file\s+)?[\w./-]+\.\w+)?$/iu,
    ) ?? `${humanise(name)}.`;
  const exported = language !== 'python';
  return {
    rule: 'insert_class',
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
    postconditions: [{ kind: 'symbol_exists', path, symbol: name }],
  };
};

const addInterfaceOrType: Rule = (context) => {
  const match = new RegExp(
    String.raw`\b(?:add|create|define|declare)\s+(?:an?\s+)?(?:new\s+)?(interface|type alias|type)\s+(?:called\s+|named\s+)?\x60?(${IDENT})\x60?`,
    'iu',
  ).exec(context.instruction);
  if (!match) return undefined;
  const name = match[2]!;
  const isInterface = match[1]!.toLowerCase() === 'interface';
  const path = needTarget(context, `add the ${isInterface ? 'interface' : 'type'} ${name}`);
  const language = needLanguage(context, path);
  if (language !== 'typescript')
    throw new NerionError(
      'INVALID_REQUEST',
      `Interfaces and type aliases need a TypeScript file; "${path}" is ${language}.`,
      { data: { path } },
    );
  const docstring =
    description(
      context.instruction,
      /\b(?:that|which|for)\s+(.+?)(?:\s+(?:in|to|into)\s+(?:the\s+)?(?:file\s+)?[\w./-]+\.\w+)?$/iu,
    ) ?? `${humanise(name)}.`;
  const code = isInterface
    ? `${jsDoc(docstring)}\nexport interface ${name} {}\n`
    : `${jsDoc(docstring)}\nexport type ${name} = unknown;\n`;
  return {
    rule: isInterface ? 'insert_interface' : 'insert_type_alias',
    actions: [
      {
        kind: isInterface ? 'insert_interface' : 'insert_type_alias',
        payload: { path, language: 'typescript', name, code, exported: true },
      },
    ],
    postconditions: [{ kind: 'symbol_exists', path, symbol: name }],
  };
};

const addModuleDocstring: Rule = (context) => {
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

const addFunctionDocstring: Rule = (context) => {
  const match =
    new RegExp(
      String.raw`\b(?:add|write|document)\s+(?:an?\s+|the\s+)?(?:docstring|doc comment|jsdoc|documentation)\s+(?:to|for)\s+(?:the\s+)?(?:function|method|def)?\s*\x60?(?:(${IDENT})\.)?(${IDENT})\x60?`,
      'iu',
    ).exec(context.instruction) ??
    new RegExp(
      String.raw`\bdocument\s+(?:the\s+)?(?:function|method)\s+\x60?(?:(${IDENT})\.)?(${IDENT})\x60?`,
      'iu',
    ).exec(context.instruction);
  if (!match) return undefined;
  const name = match[2]!;
  if (/^(module|file|class)$/iu.test(name)) return undefined;
  const path = needTarget(context, `document the function ${name}`);
  const language = needLanguage(context, path);
  const given = quoted(context.instruction);
  return {
    rule: 'add_function_docstring',
    actions: [
      {
        kind: 'add_function_docstring',
        payload: {
          path,
          language,
          function_name: name,
          ...(match[1] ? { class_name: match[1] } : {}),
          docstring: given ?? `${humanise(name)}.`,
        },
      },
    ],
    preconditions: [{ kind: 'symbol_exists', path, symbol: match[1] ? `${match[1]}.${name}` : name }],
    ...(given
      ? {}
      : { notes: ['No docstring text was given; the plan uses a placeholder derived from the function name.'] }),
  };
};

const renameSymbol: Rule = (context) => {
  const match = new RegExp(
    String.raw`\brename\s+(?:the\s+)?(?:symbol|function|method|class|variable|constant|type|interface)?\s*\x60?(${IDENT}(?:\.${IDENT})*)\x60?\s+(?:to|as|into)\s+\x60?(${IDENT})\x60?`,
    'iu',
  ).exec(context.instruction);
  if (!match) return undefined;
  const path = needTarget(context, `rename ${match[1]}`);
  const language = needLanguage(context, path);
  const repository = /\b(?:everywhere|across the (?:repo|repository|project|codebase)|in all files|repo-wide)\b/iu.test(
    context.instruction,
  );
  return {
    rule: 'rename_symbol',
    actions: [
      {
        kind: 'rename_symbol',
        payload: {
          path,
          language,
          old_name: match[1]!,
          new_name: match[2]!,
          scope: repository ? 'repository' : 'file',
        },
      },
    ],
    preconditions: [{ kind: 'symbol_exists', path, symbol: match[1]! }],
    postconditions: [{ kind: 'symbol_exists', path, symbol: match[2]! }],
  };
};

const insertImport: Rule = (context) => {
  const text = context.instruction;
  const fromImport = new RegExp(String.raw`\bfrom\s+([\w.]+)\s+import\s+(${IDENT}(?:\s*,\s*${IDENT})*)`, 'u').exec(
    text,
  );
  const importFrom = new RegExp(
    String.raw`\b(?:add\s+(?:an?\s+)?)?import\s+(?:of\s+)?(?:\{\s*)?(${IDENT}(?:\s*,\s*${IDENT})*)(?:\s*\})?\s+from\s+["'\x60]?([@\w./:-]+?)["'\x60]?(?=$|\s|[,;])`,
    'iu',
  ).exec(text);
  const bare = new RegExp(
    String.raw`\b(?:add\s+(?:an?\s+)?)?import\s+(?:of\s+)?(?:the\s+)?(?:module\s+)?["'\x60]?([@\w./:-]+?)["'\x60]?(?:\s+(?:module|package))?(?:\s+(?:to|in|into)\s|$)`,
    'iu',
  ).exec(text);
  if (!fromImport && !importFrom && !bare) return undefined;
  const path = needTarget(context, 'add an import');
  const language = needLanguage(context, path);
  let module: string;
  let names: string[] | undefined;
  if (fromImport) {
    module = fromImport[1]!;
    names = fromImport[2]!.split(',').map((name) => name.trim());
  } else if (importFrom) {
    module = importFrom[2]!;
    names = importFrom[1]!.split(',').map((name) => name.trim());
  } else {
    module = bare![1]!;
    if (module === path || (languageOf(module) !== undefined && module.includes('/') && module === context.target))
      return undefined;
  }
  let statement: string;
  if (language === 'python') statement = names ? `from ${module} import ${names.join(', ')}` : `import ${module}`;
  else statement = names ? `import { ${names.join(', ')} } from '${module}';` : `import '${module}';`;
  return {
    rule: 'insert_import',
    actions: [{ kind: 'insert_import', payload: { path, language, module, ...(names ? { names } : {}), statement } }],
  };
};

const exportSymbol: Rule = (context) => {
  const match = new RegExp(
    String.raw`\bexport\s+(default\s+)?(?:the\s+)?(?:function|class|const|symbol|variable)?\s*\x60?(${IDENT}(?:\s*(?:,|and)\s*${IDENT})*)\x60?(?:\s+as default)?`,
    'iu',
  ).exec(context.instruction);
  if (!match || /^(from|to|in)$/iu.test(match[2]!)) return undefined;
  const path = needTarget(context, 'export a symbol');
  const language = needLanguage(context, path);
  if (language === 'python')
    throw new NerionError(
      'INVALID_REQUEST',
      `Exports are a TypeScript/JavaScript notion; "${path}" is Python (add the name to __all__ instead, e.g. with --llm).`,
      { data: { path } },
    );
  const isDefault = match[1] !== undefined || /\bas default\b/iu.test(context.instruction);
  const names = match[2]!.split(/\s*(?:,|\band\b)\s*/u).filter(Boolean);
  if (isDefault)
    return {
      rule: 'export_default',
      actions: [{ kind: 'export_default', payload: { path, language, name: names[0]! } }],
    };
  return { rule: 'export_named', actions: [{ kind: 'export_named', payload: { path, language, names } }] };
};

const deleteLines: Rule = (context) => {
  const match = /\b(?:delete|remove)\s+lines?\s+(\d+)(?:\s*(?:-|to|through|–)\s*(\d+))?/iu.exec(context.instruction);
  if (!match) return undefined;
  const path = needTarget(context, 'delete lines');
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (start < 1 || end < start)
    throw new NerionError(
      'INVALID_REQUEST',
      `Line range ${start}-${end} is not valid; give 1-based lines with the start before the end.`,
    );
  return {
    rule: 'delete_lines',
    actions: [{ kind: 'delete_lines', payload: { path, start_line: start, end_line: end } }],
    preconditions: [{ kind: 'file_exists', path }],
  };
};

const ensureTest: Rule = (context) => {
  const match = new RegExp(
    String.raw`\b(?:add|write|create|ensure)\s+(?:an?\s+|the\s+)?(?:unit\s+)?tests?\s+(?:for|of|covering)\s+(?:the\s+)?(?:function\s+|class\s+)?\x60?(${IDENT})\x60?`,
    'iu',
  ).exec(context.instruction);
  if (!match) return undefined;
  const name = match[1]!;
  const path = needTarget(context, `add a test for ${name}`);
  const language = needLanguage(context, path);
  const directory = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  const file = path.slice(directory.length);
  const base = file.replace(/\.[^.]+$/u, '');
  const extension = file.slice(base.length);
  const importPath = `./${base}${language === 'python' ? '' : extension.replace(/^\.ts$/u, '.js').replace(/^\.tsx$/u, '.js')}`;
  if (language === 'python') {
    const testPath = `${directory.replace(/^src\//u, 'tests/')}test_${base}.py`.replace(
      /^(?!tests\/)/u,
      directory ? '' : 'tests/',
    );
    const module = path
      .replace(/^src\//u, '')
      .replace(/\.py$/u, '')
      .replace(/\//gu, '.');
    const code = `from ${module} import ${name}\n\n\ndef test_${name}():\n    assert callable(${name})\n`;
    return {
      rule: 'ensure_test',
      actions: [
        {
          kind: 'ensure_test',
          payload: { path, test_path: testPath, language, framework: 'pytest', test_name: `test_${name}`, code },
        },
      ],
    };
  }
  const testPath = `${directory}${base}.test${extension}`;
  const code = `import { ${name} } from '${importPath}';\n\ntest('${name} is defined', () => {\n  expect(${name}).toBeDefined();\n});\n`;
  return {
    rule: 'ensure_test',
    actions: [
      {
        kind: 'ensure_test',
        payload: { path, test_path: testPath, language, framework: 'jest', test_name: `${name} is defined`, code },
      },
    ],
  };
};

const createFile: Rule = (context) => {
  if (
    !/\b(?:create|add|make|new|touch|write)\s+(?:an?\s+|the\s+)?(?:new\s+|empty\s+)?(?:file|module|script)\b/iu.test(
      context.instruction,
    )
  )
    return undefined;
  const path = needTarget(context, 'create a file');
  const given = /\bwith(?:\s+the)?\s+(?:content|contents|text)\s+["'`]([\s\S]+)["'`]/iu.exec(context.instruction)?.[1];
  const language = languageOf(path);
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

const appendToFile: Rule = (context) => {
  const match =
    /\bappend\s+(?:the\s+)?(?:line\s+|text\s+)?(["'`])([\s\S]+?)\1/iu.exec(context.instruction) ??
    /\bappend\s+([\s\S]+?)\s+(?:to|at the end of)\s+/iu.exec(context.instruction);
  if (!match) return undefined;
  const path = needTarget(context, 'append text');
  const raw = (match.length > 2 ? match[2] : match[1])!;
  const content = `${raw.replace(/\\n/gu, '\n').replace(/\n$/u, '')}\n`;
  return { rule: 'append_to_file', actions: [{ kind: 'append_to_file', payload: { path, content } }] };
};

/** Order matters: the more specific patterns first. */
const RULES: readonly Rule[] = [
  renameSymbol,
  addFunctionDocstring,
  addModuleDocstring,
  addFunction,
  addClass,
  addInterfaceOrType,
  ensureTest,
  deleteLines,
  appendToFile,
  insertImport,
  exportSymbol,
  createFile,
];

function clarify(context: Context): RuleResult {
  if (context.target === undefined) {
    throw new NerionError(
      'INVALID_REQUEST',
      `The heuristic planner does not understand "${context.instruction}" and no target file is named. Pass -f FILE, rephrase (e.g. "add a function slugify to src/text.ts", "rename foo to bar in src/a.py"), or use --llm.`,
      { data: { instruction: context.instruction } },
    );
  }
  const path = context.target;
  return {
    rule: 'clarification',
    actions: [
      { kind: 'append_to_file', payload: { path, content: commentFor(context.language, context.instruction) } },
    ],
    questions: [
      `Which change should be made to ${path}? The heuristic planner recognises: create a file, add a function/class/interface/type, add a module or function docstring, rename a symbol, add an import, export a symbol, append text, delete lines, add a test.`,
      'Or run with --llm to let a coder model plan it.',
    ],
    notes: [
      'The only action is a TODO comment recording the instruction in the target file, so applying this plan changes no behaviour.',
    ],
  };
}
