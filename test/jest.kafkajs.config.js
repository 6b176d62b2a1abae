// The crash tests again with every producer on kafkajs (KAFKA_PRODUCER_CLIENT=kafkajs), the fallback client:
// the sink in this process and, through the inherited environment, the consumer's dead-letter producer.
// The default run (jest.config.js) has them on @platformatic/kafka, the platform's default producer.
const path = require('node:path');
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['**/ingest-crash.int.test.ts'],
  reporters: ['default', [path.join(__dirname, '..', 'scripts', 'jest-result-reporter.js'), { name: 'e2e-kafkajs' }]],
};
