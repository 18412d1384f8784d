// Bundles the CLI's plan-cache fast path (apps/cli/dist/plan-fast-path.js, built by tsc) and the workspace
// code it reaches (@nerion/backend-core, config, plan-cache, planner's validation and flow) into one file,
// apps/cli/dist/plan-fast-path.bundle.cjs, which bin/run.js loads for `nerion plan`. A cache hit must stay
// within 2x of `node -e 0`, and loading ~40 small ES modules (each resolved through node_modules symlinks
// and package exports) was half of its cost; one file is one read and one compile. CommonJS, like
// bin/run.js: a hit then never starts Node's ES-module loader (~5 ms of CPU), and builtins are require()d
// (an ES import of node:crypto also evaluates its lazy getters, loading webcrypto).
//
// Left outside the bundle, loaded from node_modules only when needed: every third-party package (valibot,
// yaml, write-file-atomic, ...) and the heavy planner entry `@nerion/planner` (the full schema, the
// planners), which the bundled code imports lazily on a miss — so a miss shares those modules with the
// oclif command. Run by the CLI's Nx `bundle` target (tools/scripts/build.mjs), after tsc.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cliDist = join(root, 'apps/cli/dist');

/** Third-party packages and the heavy planner entry stay imports; plan-flow's planners come from it too. */
const keepOutside = {
  name: 'keep-outside',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^[^./]/ }, ({ path }) =>
      path.startsWith('node:') || (path.startsWith('@nerion/') && path !== '@nerion/planner')
        ? undefined
        : { path, external: true },
    );
    // plan-flow.js loads './planners.js' only to plan (never on the fast path, which only looks up); the
    // planner's main entry exports the same functions, so the bundle loads them from there.
    esbuild.onResolve({ filter: /^\.\/planners\.js$/ }, ({ importer }) =>
      importer.endsWith(join('planner', 'dist', 'plan-flow.js'))
        ? { path: '@nerion/planner', external: true }
        : undefined,
    );
  },
};

const result = await build({
  entryPoints: [join(cliDist, 'plan-fast-path.js')],
  outfile: join(cliDist, 'plan-fast-path.bundle.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  plugins: [keepOutside],
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
  metafile: true,
  // The bundled code is written as ES modules; `import.meta.url` (createRequire's base, used only when a
  // config file or argument list needs a package) becomes the bundle's own URL, computed when first read.
  // The dynamic import() of the packages left outside stays import() (they are ES modules).
  define: { 'import.meta.url': '__bundle.url' },
  banner: { js: 'const __bundle = { get url() { return require("node:url").pathToFileURL(__filename).href; } };' },
});
const inputs = Object.keys(result.metafile.inputs);
// Anything that is not workspace code in the bundle means a package was inlined by mistake.
const foreign = inputs.filter((input) => !/(^|\/)(libs|apps)\/[^/]+\/dist\//.test(input));
if (foreign.length > 0) {
  console.error(`bundle-plan-fast-path: unexpected inputs ${foreign.join(', ')}`);
  process.exit(1);
}
