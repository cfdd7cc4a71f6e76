// Benchmark entry: scan a corpus with the agent's discovery and print METRIC lines.
// Usage (bundled with esbuild, see run.sh): node --expose-gc scan-bench.js DIR [PASSWORD...]
import { readFileSync } from 'node:fs';
import { scanPaths } from '../../../apps/agent/src/discovery';

function statusKb(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const [root, ...passwords] = process.argv.slice(2);
  if (!root) throw new Error('usage: scan-bench DIR [PASSWORD...]');
  const startMb = statusKb('VmRSS') / 1024; // Node plus this bundle's modules, before the scan
  const cpuBefore = process.cpuUsage();
  let scan: Awaited<ReturnType<typeof scanPaths>> | undefined = await scanPaths([root], { passwords });
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const { stats } = scan;
  const seconds = stats.durationMs / 1000;
  const byKind: Record<string, number> = {};
  for (const p of scan.problems) byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
  const peakMb = statusKb('VmHWM') / 1024;
  const mem = process.memoryUsage();
  const mb = (n: number) => (n / 1048576).toFixed(1);
  console.log(`after scan: rss ${mb(mem.rss)} MB, heap used ${mb(mem.heapUsed)} of ${mb(mem.heapTotal)} MB, external ${mb(mem.external)} MB (array buffers ${mb(mem.arrayBuffers)} MB)`);
  scan = undefined; // drop the results, as the agent does once a report is sent
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 500));
  (globalThis as { gc?: () => void }).gc?.();
  const idleMb = statusKb('VmRSS') / 1024;
  console.log(`scanned ${stats.filesSeen} files: ${stats.certificates} certificates, ${stats.privateKeys} private keys, ${stats.problems} problems ${JSON.stringify(byKind)} in ${stats.durationMs} ms`);
  console.log(`rss before the scan ${startMb.toFixed(1)} MB; scan CPU time ${cpuSeconds.toFixed(2)} s (certificates per CPU-second ${Math.round(stats.certificates / cpuSeconds)}: steadier than wall time on a busy machine)`);
  console.log(`METRIC discovery_files_per_s ${Math.round(stats.filesSeen / seconds)}`);
  console.log(`METRIC discovery_certs_per_s ${Math.round(stats.certificates / seconds)}`);
  console.log(`METRIC discovery_peak_rss_mb ${peakMb.toFixed(1)}`);
  console.log(`METRIC discovery_idle_rss_mb ${idleMb.toFixed(1)}`);
  console.log(`METRIC discovery_certs_per_cpu_s ${Math.round(stats.certificates / cpuSeconds)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
