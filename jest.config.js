// Runs every project's tests in one Jest invocation (the README's test command goes through tools/scripts/test.mjs).
import { readdirSync, existsSync } from 'node:fs';

const projects = ['libs', 'apps']
  .flatMap((folder) =>
    readdirSync(new URL(`./${folder}`, import.meta.url)).map((name) => `<rootDir>/${folder}/${name}`),
  )
  .concat(
    // The examples in docs/ are code too (e.g. a fourth-party backend passing the contract suite).
    readdirSync(new URL('./docs/examples', import.meta.url)).map((name) => `<rootDir>/docs/examples/${name}`),
  )
  .filter((project) => existsSync(new URL(`.${project.slice('<rootDir>'.length)}/jest.config.js`, import.meta.url)));

// testTimeout is a global option: per-project values are ignored when Jest runs `projects`.
export default { projects, testTimeout: 60_000 };
