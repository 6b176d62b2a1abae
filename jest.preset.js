// Shared jest settings for every package. Test files are told apart by name:
//   *.test.ts      unit tests: no network, no services, fast
//   *.int.test.ts  integration tests: real ClickHouse (chDB over HTTP), Postgres,
//                  PGlite over the wire, Kafka, Redis. With CI=true a suite that
//                  cannot reach its service fails instead of skipping.
const path = require('node:path');

/** @param {string} packageDir absolute path of the package using the preset */
module.exports = function preset(packageDir) {
  const name = path.basename(packageDir);
  return {
    rootDir: packageDir,
    testEnvironment: 'node',
    roots: ['<rootDir>/src', '<rootDir>/test'].filter((p) => require('node:fs').existsSync(p.replace('<rootDir>', packageDir))),
    testMatch: ['**/*.test.ts'],
    transform: {
      '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } }],
    },
    // Workspace packages resolve to their TypeScript sources, so a unit test
    // never depends on a stale dist/ of a sibling package.
    moduleNameMapper: {
      '^@tidemark/([a-z-]+)$': path.join(packageDir, '..', '$1', 'src'),
      // The one subpath export of a workspace package (packages/etl/package.json "exports").
      '^@tidemark/etl/status-state$': path.join(packageDir, '..', 'etl', 'src', 'status', 'state'),
    },
    reporters: ['default', [path.join(__dirname, 'scripts', 'jest-result-reporter.js'), { name }]],
    testTimeout: 60_000,
  };
};
