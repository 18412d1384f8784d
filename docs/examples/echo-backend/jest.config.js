import { createJestConfig } from '../../../jest.preset.js';

const config = createJestConfig(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'example-echo-backend');
export default { ...config, testMatch: ['<rootDir>/*.spec.ts'] };
