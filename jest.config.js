// Runs every project's tests in one Jest invocation, for a quick loop (`npx jest libs/<pkg>`). The README's
// test command goes through tools/scripts/test.mjs, which runs each project's Jest through Nx instead.
import { readdirSync, existsSync } from 'node:fs';

const projectDirs = ['libs', 'apps', 'docs/examples']
  // (docs/examples hold code too: e.g. a fourth-party backend passing the contract suite.)
  .flatMap((folder) => readdirSync(new URL(`./${folder}`, import.meta.url)).map((name) => `${folder}/${name}`))
  .filter((dir) => existsSync(new URL(`./${dir}/jest.config.js`, import.meta.url)));

// Reporters are a root option: a project's own (the results file for test.mjs) does not apply here.
const projects = await Promise.all(
  projectDirs.map(async (dir) => {
    const { reporters: _reporters, ...config } = (await import(`./${dir}/jest.config.js`)).default;
    return config;
  }),
);

// testTimeout is a global option: per-project values are ignored when Jest runs `projects`.
export default { projects, testTimeout: 60_000 };
