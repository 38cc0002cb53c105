// Flat config: typescript-eslint's type-checked rules over everything TypeScript we write. Layout is prettier's
// (.prettierrc.json, `npm run format:check`): these presets turn on no stylistic rule that could disagree with it
// (ESLint deprecated its formatting rules in v8.53, https://eslint.org/blog/2023/10/deprecating-formatting-rules/),
// so eslint-config-prettier is not needed. Add it last here if a stylistic plugin is ever added.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '.*-build-*/**',
      'node_modules/**',
      'coverage/**',
      'examples/app/node_modules/**',
      'test/fixtures/migrations/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  // Plain JS/MJS files are Node scripts; `process`/`console` are globals there (no `globals` package installed).
  { files: ['**/*.js', '**/*.mjs'], rules: { 'no-undef': 'off' } },
);
