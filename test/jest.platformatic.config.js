// The crash tests again with every producer on @platformatic/kafka (KAFKA_PRODUCER_CLIENT=platformatic):
// the sink in this process and, through the inherited environment, the consumer's dead-letter producer.
// The client is ESM-only, loaded with import() when chosen: swc keeps that import() (ignoreDynamic) and
// jest runs with NODE_OPTIONS=--experimental-vm-modules so it can load an ES module (scripts/test.sh).
const path = require('node:path');
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['**/ingest-crash.int.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } }],
  },
  reporters: ['default', [path.join(__dirname, '..', 'scripts', 'jest-result-reporter.js'), { name: 'e2e-platformatic' }]],
};
