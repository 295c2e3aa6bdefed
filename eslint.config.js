// ESLint (flat config): typescript-eslint's recommended rules over the whole tree,
// React's hooks rules over the renderer. Formatting is Prettier's business, not
// ESLint's (see .prettierrc.json). Type-aware rules are left out: on two cores they
// cost minutes per run for a handful of extra findings.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', 'exports-under-test/', '**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Control characters in a pattern are the point where terminal escapes are found and
      // escaped (graph/types.ts printable) and where the hostile-input tests look for them.
      'no-control-regex': 'off',
    },
  },
  {
    // The one plain-JavaScript file: the `attn` launcher, run by Node.
    files: ['bin/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
);
