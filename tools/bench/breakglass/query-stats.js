// Preloaded into the server by run.sh --query-stats (node --require): times every SQL statement the
// server runs (PGlite: PGlite.query/exec; PostgreSQL: pg Client.query) and adds it up per statement
// text. On SIGWINCH (not SIGUSR2: NestJS shuts down on that) it writes what it has to $BREAKGLASS_QUERY_STATS_DIR/dump-<n>.txt (by total time)
// and starts again, so the simulator can bracket a campaign with two signals.
// Times are wall-clock from the call to the answer; on PGlite, whose one connection runs one
// statement at a time, that is the database's own time; on PostgreSQL it includes the round trip.
'use strict';
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const dir = process.env.BREAKGLASS_QUERY_STATS_DIR || '/tmp/certfleet-breakglass-query-stats';
mkdirSync(dir, { recursive: true });
let stats = new Map();
let since = performance.now();
let dumps = 0;
// How long timers and I/O callbacks waited for the event loop (PGlite runs on it, synchronously).
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

const normalise = (sql) => String(sql).replace(/\s+/g, ' ').replace(/\$\d+/g, '$').trim().slice(0, 220);

function record(sql, ms) {
  const key = normalise(sql);
  const s = stats.get(key);
  if (s) {
    s.n++;
    s.ms += ms;
    if (ms > s.max) s.max = ms;
  } else stats.set(key, { n: 1, ms, max: ms });
}

function wrapPromise(proto, name) {
  const original = proto[name];
  if (typeof original !== 'function' || original.__timed) return;
  proto[name] = function timed(sql, ...rest) {
    const t = performance.now();
    const p = original.call(this, sql, ...rest);
    if (p && typeof p.then === 'function') p.then(() => record(sql, performance.now() - t), () => record(sql, performance.now() - t));
    return p;
  };
  proto[name].__timed = true;
}

function owner(obj, name) {
  for (let p = obj; p; p = Object.getPrototypeOf(p)) if (Object.prototype.hasOwnProperty.call(p, name)) return p;
  return null;
}

const paths = [process.cwd()];
try {
  const { PGlite } = require(require.resolve('@electric-sql/pglite', { paths }));
  for (const name of ['query', 'exec']) {
    const o = owner(PGlite.prototype, name);
    if (o) wrapPromise(o, name);
  }
} catch {
  // not installed: nothing to time there
}
try {
  const { Client } = require(require.resolve('pg', { paths }));
  const original = Client.prototype.query;
  Client.prototype.query = function timed(config, values, callback) {
    const sql = typeof config === 'string' ? config : config && config.text;
    const t = performance.now();
    const done = () => record(sql, performance.now() - t);
    if (typeof values === 'function') return original.call(this, config, (err, res) => (done(), values(err, res)));
    if (typeof callback === 'function') return original.call(this, config, values, (err, res) => (done(), callback(err, res)));
    const p = original.call(this, config, values);
    if (p && typeof p.then === 'function') p.then(done, done);
    return p;
  };
} catch {
  // not installed
}

function dump() {
  const wall = (performance.now() - since) / 1000;
  const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, v]) => s + v.ms, 0);
  const count = rows.reduce((s, [, v]) => s + v.n, 0);
  const ms = (ns) => (ns / 1e6).toFixed(0);
  const lines = [
    `window ${wall.toFixed(1)} s: ${count} statements, ${(total / 1000).toFixed(1)} s in the database (${((100 * total) / 1000 / wall).toFixed(0)}% of the window); ` +
      `event-loop delay p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms`,
  ];
  lines.push('   total_s  share   calls   avg_ms   max_ms  statement');
  for (const [sql, v] of rows.slice(0, 40)) {
    lines.push(`${(v.ms / 1000).toFixed(2).padStart(10)} ${((100 * v.ms) / total).toFixed(1).padStart(5)}% ${String(v.n).padStart(7)} ${(v.ms / v.n).toFixed(2).padStart(8)} ${v.max.toFixed(0).padStart(8)}  ${sql}`);
  }
  writeFileSync(join(dir, `dump-${++dumps}.txt`), lines.join('\n') + '\n');
  stats = new Map();
  since = performance.now();
  loop.reset();
}

process.on('SIGWINCH', dump);
