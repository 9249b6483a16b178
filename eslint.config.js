import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test-output/**', 'cloud/dashboard/static/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // One persistence boundary (docs/architecture.md, "Persistence"): outside cloud/store/ the
    // cloud reaches its database only through the repositories.
    files: ['cloud/**/*.ts'],
    ignores: ['cloud/store/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'kysely', message: 'queries belong in a repository under cloud/store/' }] }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|selectNoFrom)$/]",
          message: 'queries belong in a repository under cloud/store/',
        },
        {
          selector: "MemberExpression[property.name='db'][object.property.name='store'], MemberExpression[property.name='db'][object.name='store']",
          message: 'the raw database handle is for migrations, tests and benchmarks; use the repositories',
        },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**', '**/cli.ts', '**/cli/**'],
    rules: { 'no-console': 'off' },
  },
);
