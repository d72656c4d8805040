// Lint rules, including the import boundaries between the layers of src/ (DESIGN.md): each
// message says why the import is not allowed there.

import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const REACT = ['react', 'react-dom', 'react-dom/*', 'zustand', 'recharts'];
const TFJS = ['@tensorflow/*'];

const noReact = {
  group: REACT,
  message: 'core/ and ml/ run in workers and in Node tests: no React, zustand or recharts here.',
};
const noTfjs = (where, why) => ({ group: TFJS, message: `${where} ${why}` });
const ours = (folders, message) => ({ group: folders.map((f) => `**/${f}/*`), message });

/** The DOM globals that must not appear in code that also runs in Node. */
const DOM_GLOBALS = ['window', 'document', 'localStorage', 'sessionStorage', 'HTMLElement', 'HTMLCanvasElement'].map((name) => ({
  name,
  message: 'core/ and ml/ have no DOM: they run in the training worker and in Node tests.',
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'public/', 'test-results/', 'playwright-report/', 'src/ml/kernels/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      'no-console': ['error', { allow: ['warn', 'error'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Tests may report what they measured (console.info); nothing else prints.
    files: ['tests/**/*.ts'],
    rules: { 'no-console': ['error', { allow: ['info', 'warn', 'error'] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noReact,
            noTfjs('core/', 'is pure functions over numbers, shared by every layer: no tfjs.'),
            ours(['ml', 'data', 'workers', 'state', 'ui'], 'core/ is the bottom layer: it imports nothing of ours.'),
          ],
        },
      ],
      'no-restricted-globals': ['error', ...DOM_GLOBALS],
    },
  },
  {
    files: ['src/ml/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noReact, ours(['data', 'workers', 'state', 'ui'], 'ml/ may import core/ and tfjs only, so it runs in Node tests.')] },
      ],
      'no-restricted-globals': ['error', ...DOM_GLOBALS],
    },
  },
  {
    files: ['src/data/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noReact,
            noTfjs('data/', 'decodes and preprocesses with plain typed arrays; tensors belong to ml/.'),
            ours(['ml', 'workers', 'state', 'ui'], 'data/ may import core/ only.'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/history/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noReact,
            noTfjs('history/', 'stores plain run records in IndexedDB: no tensors.'),
            ours(['ml', 'data', 'workers', 'state', 'ui'], 'history/ may import core/ only: the page (state/, ui/) reads it, and main.tsx opens it.'),
          ],
        },
      ],
      'no-restricted-globals': ['error', ...DOM_GLOBALS.map((g) => ({ ...g, message: 'history/ has no DOM: it runs in Node tests (fake-indexeddb).' }))],
    },
  },
  {
    files: ['src/workers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noReact, ours(['state', 'ui'], 'workers/ know nothing of the page: the page talks to them through protocol.ts.')] }],
    },
  },
  {
    files: ['src/state/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noTfjs('state/', 'holds plain serialisable data; tensors live in the training worker.'),
            ours(['ml', 'data', 'ui'], 'state/ may import core/ and workers/protocol only.'),
            { group: ['**/workers/*', '!**/workers/protocol'], message: 'state/ talks to workers only through the message types in workers/protocol.ts.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noTfjs('ui/', 'never runs tfjs: the model lives in the training worker, reached through the store.'),
            ours(['ml', 'data', 'workers'], 'ui/ reads the store (state/) and core/ types; workers are wired in main.tsx.'),
          ],
        },
      ],
    },
  },
);
