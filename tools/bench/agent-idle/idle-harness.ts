// Idle-RSS harness for tools/bench/agent-idle/run.sh (compiled to dist/ by tools/scripts/build.js
// and run as plain Node, like `node dist/apps/agent/src/main.js`): loads the agent's modules,
// scans, drops the result the way the agent does once a report is sent, and sits idle. It prints
// one PHASE line per stage with its own figures; run.sh reads VmRSS of this pid from outside.
//
//   node [--expose-gc] idle-harness.js [--modules agent|discovery] [--idle-seconds N] [ROOT...]
//
// --modules agent (default) requires what apps/agent/src/main.ts requires (gRPC, the proto code,
// @certfleet/pki), so the baseline is the real agent's; "discovery" loads only
// the scan. With no ROOT the agent's default roots are scanned (/etc/ssl, /etc/pki, ...).
// Like main.ts, it applies the agent's heap tuning before loading anything else.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

type ScanModule = typeof import('../../../apps/agent/src/discovery');

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

function statusMb(field: 'VmRSS' | 'VmHWM'): string {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? (Number(m[1]) / 1024).toFixed(1) : 'NaN';
}

/** Resident memory by kind of mapping: the node binary's pages, V8/anonymous memory, malloc heap. */
function residentByMapping(): string {
  const by: Record<string, number> = {};
  let kind = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1];
      kind = name === '' ? 'anon' : name === '[heap]' ? 'malloc' : name.startsWith('/') ? (/\/node$/.test(name) ? 'node-binary' : 'files') : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) by[kind] = (by[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return Object.entries(by).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
}

function phase(name: string): void {
  const m = process.memoryUsage();
  console.log(
    `PHASE ${name} pid ${process.pid} rss_mb ${statusMb('VmRSS')} hwm_mb ${statusMb('VmHWM')} heap_used_mb ${mb(m.heapUsed)} heap_total_mb ${mb(m.heapTotal)} ` +
      `external_mb ${mb(m.external)} array_buffers_mb ${mb(m.arrayBuffers)} | resident by mapping (MB): ${residentByMapping()}`,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      modules: { type: 'string', default: 'agent' },
      'idle-seconds': { type: 'string', default: '10' },
      password: { type: 'string', multiple: true, default: [] },
    },
  });
  phase('start');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('../../../apps/agent/src/discovery/heap-tuning') as typeof import('../../../apps/agent/src/discovery/heap-tuning')).tuneHeapForAgent();
  let discovery: ScanModule;
  if (values.modules === 'agent') {
    // What apps/agent/src/main.ts imports, in its order (main.ts itself would run a command).
    /* eslint-disable @typescript-eslint/no-require-imports */
    require('../../../apps/agent/src/config/agent-config');
    discovery = require('../../../apps/agent/src/discovery') as ScanModule;
    require('../../../apps/agent/src/enroll/enroll');
    require('../../../apps/agent/src/log');
    require('../../../apps/agent/src/run/agent-runner');
    /* eslint-enable @typescript-eslint/no-require-imports */
  } else {
    discovery = require('../../../apps/agent/src/discovery') as ScanModule; // eslint-disable-line @typescript-eslint/no-require-imports
  }
  phase(`loaded-${values.modules}`);
  const roots = positionals.length ? positionals : [...discovery.DEFAULT_SCAN_ROOTS];
  let scan: Awaited<ReturnType<ScanModule['scanPaths']>> | undefined = await discovery.scanPaths(roots, { passwords: values.password });
  console.log(`scanned ${roots.join(', ')}: ${scan.stats.filesSeen} files, ${scan.stats.certificates} certificates, ${scan.stats.privateKeys} keys, ${scan.stats.problems} problems in ${scan.stats.durationMs} ms`);
  phase('scanned');
  scan = undefined; // the agent drops the result once its report is built
  const idleMs = Number(values['idle-seconds']) * 1000;
  await sleep(idleMs);
  phase('idle');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    await sleep(1000);
    phase('idle-after-gc');
  }
  console.log('IDLE'); // run.sh reads /proc/<pid>/status now, then ends this process
  await sleep(600_000);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
