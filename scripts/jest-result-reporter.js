// Writes each package's jest totals to .test-results/<package>.json so that
// scripts/test-summary.mjs can print one closing line for the whole suite.
const fs = require('node:fs');
const path = require('node:path');

class JestResultReporter {
  constructor(_globalConfig, options) {
    this.name = options.name;
  }
  onRunComplete(_contexts, results) {
    const dir = path.join(__dirname, '..', '.test-results');
    fs.mkdirSync(dir, { recursive: true });
    const failedFiles = results.testResults
      .filter((r) => r.numFailingTests > 0 || r.testExecError)
      .map((r) => path.relative(path.join(__dirname, '..'), r.testFilePath));
    fs.writeFileSync(
      path.join(dir, `${this.name}.json`),
      JSON.stringify({
        name: this.name,
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        skipped: results.numPendingTests + results.numTodoTests,
        failedFiles,
      }),
    );
  }
}
module.exports = JestResultReporter;
