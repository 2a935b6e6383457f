// ESLint (flat config), `npm run lint`, part of `npm test`: typescript-eslint's recommended rules
// for TypeScript and plain JS, eslint-plugin-svelte's for components and rune modules.
// Not type-aware: with type information the run took about 3.5x the CPU time (measured on this
// tree) and its extra findings were mostly `!` assertions tsc does not ask for; tsc and
// svelte-check do the type checking.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
  { ignores: ['dist/', 'release/', 'models/generated/', 'test-results/', 'playwright-report/', '.cache/', '**/__pycache__/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `const { graph: _g, ...rest } = model` is how the code leaves a property out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['renderer/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['test/**'],
    rules: {
      // Tests reach into untyped places on purpose: window globals inside the page, the preload's
      // exposed bridge, parsed YAML, menu templates. The code under test has no `any`.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
