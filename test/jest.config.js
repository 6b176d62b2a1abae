// End-to-end tests that span packages and processes (the CLI, crash tests).
// They run against built packages (dist), like a user would.
const path = require('node:path');
const base = require('../jest.preset')(path.join(__dirname, '..', 'packages', 'cli'));

module.exports = {
  ...base,
  rootDir: __dirname,
  roots: ['<rootDir>'],
  moduleNameMapper: { ...base.moduleNameMapper, '^@tidemark/([a-z-]+)$': path.join(__dirname, '..', 'packages', '$1', 'src') },
  reporters: ['default', [path.join(__dirname, '..', 'scripts', 'jest-result-reporter.js'), { name: 'e2e' }]],
  testTimeout: 600_000,
};
