// Jest globalSetup: gives the test workers a PostgreSQL server in TEST_DATABASE_URL.
// Uses TEST_DATABASE_URL when set (after checking it connects); otherwise starts a throwaway
// cluster (see postgres-cluster.js) with a database `certfleet_test`. Teardown: postgres-teardown.js.
// Workers inherit process.env as set here; the cluster handle travels to teardown on globalThis,
// which Jest shares between globalSetup and globalTeardown.
const { Client } = require('pg');
const { startCluster, stopCluster, sweepStaleClusters } = require('./postgres-cluster');

const STATE_KEY = '__certfleetTestPostgres';
const DATABASE = 'certfleet_test';

async function checkConnects(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL (${redact(url)}) does not accept connections: ${error.message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redact(url) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

async function setup() {
  if (process.env.TEST_DATABASE_URL) {
    await checkConnects(process.env.TEST_DATABASE_URL);
    return;
  }
  const swept = sweepStaleClusters();
  if (swept) console.log(`[test-postgres] removed ${swept} stale cluster(s) left by earlier runs`);
  const cluster = await startCluster();
  globalThis[STATE_KEY] = cluster;
  try {
    const admin = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
  } catch (error) {
    await teardown();
    throw error;
  }
  process.env.TEST_DATABASE_URL = `postgres://postgres@127.0.0.1:${cluster.port}/${DATABASE}`;
  process.env.CERTFLEET_TEST_PG_DIR = cluster.base;
}

async function teardown() {
  const cluster = globalThis[STATE_KEY];
  if (!cluster) return; // external server, or setup never started one
  delete globalThis[STATE_KEY];
  stopCluster(cluster);
}

module.exports = setup;
module.exports.setup = setup;
module.exports.teardown = teardown;
