// Prints one plain closing line, "tests: N passed, N failed[, N skipped]", as the very last line of
// the run (after Jest's own summary), so a CI that reads closing lines understands it.
const { writeSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
    process.once('exit', () => writeSync(process.stderr.fd, line));
  }
}
module.exports = SummaryReporter;
