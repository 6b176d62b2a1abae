// One lint config for every package (flat config). Type-aware rules are kept
// to the ones that catch real bugs: floating promises and misused promises.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs', 'data/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The API reads other roles through narrow interfaces injected by the platform wiring
    // (packages/cli/src/roles.ts): types and alerting's input schemas only, never a role's code.
    files: ['packages/api/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@tidemark/alerting',
              allowImportNames: ['inputs'],
              allowTypeImports: true,
              message: 'the API takes alerting through AlertsApi/ProviderCallbacks (ApiRoleDeps)',
            },
            ...['@tidemark/etl', '@tidemark/collector', '@tidemark/monitor'].map((name) => ({
              name,
              allowTypeImports: true,
              message: 'the API does not load other roles',
            })),
          ],
          // Their subpaths likewise, but for the etl role's table-state rule: a
          // dependency-free module (packages/etl/src/status/state.ts) the API shares
          // so the two status readers cannot drift.
          patterns: [
            {
              group: ['@tidemark/alerting/*', '@tidemark/etl/*', '!@tidemark/etl/status-state', '@tidemark/collector/*', '@tidemark/monitor/*'],
              allowTypeImports: true,
              message: 'the API does not load other roles (@tidemark/etl/status-state is the one exception)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/cli/src/**/*.ts', 'packages/*/test/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests read loosely shaped JSON answers; their assertions do the typing.
    files: ['packages/*/test/**/*.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
