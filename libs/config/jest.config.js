import { createJestConfig } from '../../jest.preset.js';

export default createJestConfig(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'config');
