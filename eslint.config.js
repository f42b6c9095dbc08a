// Lint enforces the layer boundaries of docs/architecture (../shared/design/architecture.md):
// the Electron-free core never imports `electron`; the renderer never imports Node built-ins
// or main-process code; the shared contract imports nothing but zod.
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'release/**', '.venv/**', 'modeling/**', 'tests/fixtures/**', '.device-carry/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/shell/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only src-main/shell and src-preload may import electron; the core stays Electron-free.' }] }],
    },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The renderer talks only to window.atelier.' }, ...nodeBuiltins.map((name) => ({ name, message: 'The renderer never imports Node built-ins.' }))],
        patterns: [{ group: ['**/src-main/**', '**/src-preload/**'], message: 'The renderer imports only src-shared and its own code.' }],
      }],
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The contract is host-neutral.' }, ...nodeBuiltins.map((name) => ({ name, message: 'The contract is shared with the renderer: no Node built-ins.' }))],
        patterns: [{ group: ['**/src-main/**', '**/src-preload/**', '**/src-renderer/**'], message: 'The contract depends on nothing but zod.' }],
      }],
    },
  },
);
