// Jest reporter for CI logs: a timestamped line when each test file starts and ends, and the
// running file every few minutes, so a log cut off by a time limit shows what was running.
// Silent outside CI (CI unset), where the default reporter is enough.
const { relative } = require('node:path');

const HEARTBEAT_MS = 5 * 60_000;

class ProgressReporter {
  constructor(globalConfig) {
    this.root = globalConfig.rootDir;
    this.enabled = Boolean(process.env.CI);
    this.running = new Map();
    this.done = 0;
    this.total = 0;
  }

  onRunStart(results) {
    if (!this.enabled) return;
    this.total = results.numTotalTestSuites;
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      for (const [file, started] of this.running) this.print(`still running ${file} (${Math.round((now - started) / 1000)} s)`);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  onTestFileStart(test) {
    if (!this.enabled) return;
    const file = relative(this.root, test.path);
    this.running.set(file, Date.now());
    this.print(`start ${file}`);
  }

  onTestFileResult(test, result) {
    if (!this.enabled) return;
    const file = relative(this.root, test.path);
    const started = this.running.get(file) ?? Date.now();
    this.running.delete(file);
    this.done++;
    const failed = result.numFailingTests > 0 || result.testExecError ? ' FAILED' : '';
    // The reporter shares the process of in-band test runs: its memory is theirs.
    const { rss, heapUsed } = process.memoryUsage();
    this.print(`end ${file} in ${Math.round((Date.now() - started) / 1000)} s${failed} (${this.done}/${this.total}; rss ${Math.round(rss / 2 ** 20)} MiB, heap ${Math.round(heapUsed / 2 ** 20)} MiB)`);
  }

  onRunComplete() {
    clearInterval(this.heartbeat);
  }

  print(line) {
    process.stderr.write(`[progress ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  }
}

module.exports = ProgressReporter;
