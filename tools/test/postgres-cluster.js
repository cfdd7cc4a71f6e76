// A throwaway PostgreSQL cluster for tests: find the server binaries, run them as a non-root
// user (PostgreSQL refuses root), start on a free loopback port, stop, and sweep up clusters
// that a crashed run left behind. Plain CommonJS so Jest can load it before any transform.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

// Fixed /tmp (not $TMPDIR) so every run sweeps the same place and socket paths stay short.
const CLUSTER_PARENT = '/tmp';
const CLUSTER_PREFIX = 'certfleet-test-pg-';
const STALE_AFTER_MS = 60 * 60 * 1000;
const OWNER_FILE = 'owner.json';

function findServerBinaries() {
  const onPath = (name) =>
    (process.env.PATH || '').split(path.delimiter).map((dir) => path.join(dir, name)).find(isExecutable);
  const initdb = onPath('initdb');
  const pgCtl = onPath('pg_ctl');
  if (initdb && pgCtl) return { initdb, pgCtl };
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql') : [];
  versions.sort((a, b) => Number(b) - Number(a)); // newest first
  for (const version of versions) {
    const bin = path.join('/usr/lib/postgresql', version, 'bin');
    if (isExecutable(path.join(bin, 'initdb')) && isExecutable(path.join(bin, 'pg_ctl'))) {
      return { initdb: path.join(bin, 'initdb'), pgCtl: path.join(bin, 'pg_ctl') };
    }
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin: ' +
      'run tools/test/ensure-debian-packages.sh, or set TEST_DATABASE_URL to an existing server',
  );
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** How to run server programs: as ourselves, or as `postgres` when root (PostgreSQL refuses root). */
function serverUser() {
  if (process.getuid() !== 0) return { via: 'self' };
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root, but there is no "postgres" system user to run PostgreSQL as; set TEST_DATABASE_URL instead');
  }
  const via = isExecutable('/usr/sbin/runuser') ? 'runuser' : 'su';
  return { via, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function shellQuote(word) {
  return `'${String(word).replace(/'/g, `'\\''`)}'`;
}

/** The argv that runs `command args` as the server user. */
function serverArgv(user, command, args) {
  if (user.via === 'runuser') return ['/usr/sbin/runuser', '-u', 'postgres', '--', command, ...args];
  if (user.via === 'su') return ['su', 'postgres', '-s', '/bin/sh', '-c', [command, ...args].map(shellQuote).join(' ')];
  return [command, ...args];
}

/** Runs a server command; throws with its stderr on failure. */
function runServerCommand(user, command, args) {
  const [program, ...programArgs] = serverArgv(user, command, args);
  // stdin/stdout ignored: the postmaster pg_ctl leaves running must not hold a pipe we wait on.
  const result = spawnSync(program, programArgs, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.error}`);
  }
}

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Creates, initialises and starts a cluster; returns what `stopCluster` needs. */
async function startCluster() {
  const binaries = findServerBinaries();
  const user = serverUser();
  const base = fs.mkdtempSync(path.join(CLUSTER_PARENT, CLUSTER_PREFIX));
  const cluster = { base, dataDir: path.join(base, 'data'), socketDir: path.join(base, 's'), binaries, user, port: 0 };
  fs.writeFileSync(path.join(base, OWNER_FILE), JSON.stringify({ ownerPid: process.pid, startedAt: Date.now() }));
  fs.mkdirSync(cluster.socketDir, { mode: 0o700 });
  if (user.via !== 'self') {
    for (const dir of [base, cluster.socketDir]) fs.chownSync(dir, user.uid, user.gid);
  }
  try {
    runServerCommand(user, binaries.initdb, ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']);
    cluster.port = await startOnFreePort(cluster);
  } catch (error) {
    stopPostmaster(base, binaries, user); // pg_ctl -w may time out with a postmaster already up
    removeDirectory(base);
    throw error;
  }
  cluster.watchdogPid = startWatchdog(cluster);
  return cluster;
}

async function startOnFreePort(cluster) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freeLoopbackPort();
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${cluster.socketDir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    try {
      runServerCommand(cluster.user, cluster.binaries.pgCtl, ['start', '-D', cluster.dataDir, '-l', path.join(cluster.base, 'postgres.log'), '-w', '-t', '30', '-o', options]);
      return port;
    } catch (error) {
      lastError = error; // most likely another process took the port in between: try another
    }
  }
  throw new Error(`could not start PostgreSQL: ${lastError.message}\nlog: ${readLog(cluster.base)}`);
}

function readLog(base) {
  try {
    return fs.readFileSync(path.join(base, 'postgres.log'), 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

/** Stops the postmaster at once (test data is disposable) and deletes the cluster directory. */
function stopCluster(cluster) {
  if (cluster.watchdogPid) {
    try {
      process.kill(cluster.watchdogPid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  stopPostmaster(cluster.base, cluster.binaries, cluster.user);
  removeDirectory(cluster.base);
}

function stopPostmaster(base, binaries, user) {
  const dataDir = path.join(base, 'data');
  if (!fs.existsSync(path.join(dataDir, 'postmaster.pid'))) return;
  try {
    runServerCommand(user, binaries.pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']);
  } catch {
    // pg_ctl could not stop it (e.g. a half-deleted data dir): signal the recorded postmaster pid.
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 1) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // not running
      }
    }
  }
}

function removeDirectory(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A detached shell that outlives a crashed Jest: once the owner process is gone it stops the
 * cluster and deletes it, so an abrupt exit never leaves a postmaster running.
 */
function startWatchdog(cluster) {
  const stop = serverArgv(cluster.user, cluster.binaries.pgCtl, ['stop', '-D', cluster.dataDir, '-m', 'immediate']).map(shellQuote).join(' ');
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; ${stop} >/dev/null 2>&1; rm -rf ${shellQuote(cluster.base)}`;
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Stops and deletes clusters whose owner died or that are older than an hour. Returns how many. */
function sweepStaleClusters() {
  let swept = 0;
  for (const name of fs.readdirSync(CLUSTER_PARENT).filter((n) => n.startsWith(CLUSTER_PREFIX))) {
    const base = path.join(CLUSTER_PARENT, name);
    let owner;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(base, OWNER_FILE), 'utf8'));
    } catch {
      owner = { ownerPid: 0, startedAt: fs.statSync(base).mtimeMs };
    }
    if (isAlive(owner.ownerPid) && Date.now() - owner.startedAt < STALE_AFTER_MS) continue;
    try {
      stopPostmaster(base, findServerBinaries(), serverUser());
      removeDirectory(base);
      swept += 1;
    } catch (error) {
      console.warn(`[test-postgres] could not remove stale cluster ${base}: ${error.message}`);
    }
  }
  return swept;
}

module.exports = { startCluster, stopCluster, sweepStaleClusters, CLUSTER_PREFIX };
