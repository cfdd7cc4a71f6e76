#!/usr/bin/env node
// Summarises a server .cpuprofile (from run.sh --profile) over a time window, e.g. the ingest phase:
//   node tools/bench/fleet-ingest/profile.js FILE.cpuprofile [START_US END_US] [TOP]
// START_US/END_US are CLOCK_MONOTONIC microseconds as the simulator prints them ("ingest window").
// Prints self time by function and by module (node_modules package or source file), and the
// inclusive time of a few functions of interest.
const fs = require('node:fs');
const [file, startArg, endArg, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile.js FILE.cpuprofile [START_US END_US] [TOP]');
  process.exit(2);
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const start = startArg ? Number(startArg) : -Infinity;
const end = endArg ? Number(endArg) : Infinity;
const top = Number(topArg || 30);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);

const self = new Map();
let t = prof.startTime;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i];
  if (t < start || t > end) continue;
  const dt = prof.timeDeltas[i + 1] ?? 0;
  self.set(prof.samples[i], (self.get(prof.samples[i]) || 0) + dt);
  total += dt;
}
const label = (n) => {
  const f = n.callFrame;
  const url = (f.url || '').replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'nm:').replace(/.*\/dist\//, '');
  return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
};
const moduleOf = (n) => {
  const url = (n.callFrame.url || '').replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/')) return url.replace(/.*\/dist\//, '');
  if (url.startsWith('node:')) return 'node:internal';
  return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : url || '(native)';
};
const fns = new Map();
const mods = new Map();
const incl = new Map();
for (const [id, us] of self) {
  const n = byId.get(id);
  fns.set(label(n), (fns.get(label(n)) || 0) + us);
  mods.set(moduleOf(n), (mods.get(moduleOf(n)) || 0) + us);
  const seen = new Set();
  for (let p = id; p !== undefined; p = parent.get(p)) {
    const name = byId.get(p).callFrame.functionName;
    if (name && !seen.has(name)) {
      seen.add(name);
      incl.set(name, (incl.get(name) || 0) + us);
    }
  }
}
const ms = (us) => (us / 1000).toFixed(0).padStart(7);
const pct = (us) => ((100 * us) / total).toFixed(1).padStart(5);
console.log(`window: ${(total / 1e6).toFixed(2)} s of samples`);
console.log('\n-- self time by module --');
for (const [k, v] of [...mods].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ms ${pct(v)}%  ${k}`);
console.log('\n-- self time by function --');
for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ms ${pct(v)}%  ${k}`);
console.log('\n-- inclusive time (functions of interest) --');
const interest = /^(apply|upsert|toRow|toJsonObject|recordHello|recordHeartbeat|syncState|authenticate|handle|execute|query|transaction|getOne|update|execProtocol|exec|parse|serialize|deserialize|createQueryBuilder|getQuery|getQueryAndParameters|processGarbageCollection|\(garbage collector\)|\(idle\)|\(program\))$/;
for (const [k, v] of [...incl].filter(([k]) => interest.test(k)).sort((a, b) => b[1] - a[1])) console.log(`${ms(v)} ms ${pct(v)}%  ${k}`);
