#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AgentConfigError, loadAgentConfig } from './config/agent-config';
import { runScanCommand, tuneHeapForAgent } from './discovery';
import { enroll } from './enroll/enroll';
import { stderrLogger } from './log';
import { AgentRunner } from './run/agent-runner';
import { AGENT_VERSION } from './version';

const USAGE = `certfleet-agent ${AGENT_VERSION}: certificate discovery and lifecycle agent

Usage:
  certfleet-agent enroll --server HOST:PORT --token TOKEN --ca-fingerprint SHA256 [--state-dir DIR] [--config FILE]
  certfleet-agent run [--config FILE] [--state-dir DIR] [--scan-root PATH]... [--scan-interval SECONDS] [--probe-endpoints SECONDS]
  certfleet-agent scan [PATH...] [--password P]... [--max-file-size BYTES] [--json]
  certfleet-agent version

Config file: ${'/etc/certfleet/agent.json'} (or --config / CERTFLEET_AGENT_CONFIG), JSON with
stateDir, scanRoots, passwords, maxFileSize, scanIntervalSeconds, exclude, endpointProbeIntervalSeconds
(0 = off, the default: probe this host's TCP listeners with TLS that often and report them).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'enroll':
      return enrollCommand(rest);
    case 'run':
      return runCommand(rest);
    case 'scan':
      return runScanCommand(rest);
    case 'version':
    case '--version':
      console.log(AGENT_VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`certfleet-agent: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function enrollCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      'ca-fingerprint': { type: 'string' },
      'state-dir': { type: 'string' },
      config: { type: 'string' },
    },
  });
  const missing = ['server', 'token', 'ca-fingerprint'].filter((k) => !values[k as keyof typeof values]);
  if (missing.length) {
    console.error(`certfleet-agent enroll: missing --${missing.join(', --')}`);
    return 2;
  }
  const config = loadAgentConfig(values.config);
  const stateDir = values['state-dir'] ?? config.stateDir;
  const identity = await enroll({ server: values.server!, token: values.token!, caFingerprint: values['ca-fingerprint']!, stateDir });
  console.log(`enrolled as agent ${identity.agentId}; identity stored in ${stateDir}`);
  return 0;
}

async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'state-dir': { type: 'string' },
      'scan-root': { type: 'string', multiple: true },
      'scan-interval': { type: 'string' },
      'probe-endpoints': { type: 'string' },
      password: { type: 'string', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
    },
  });
  const config = loadAgentConfig(values.config);
  if (values['state-dir']) config.stateDir = values['state-dir'];
  if (values['scan-root']?.length) config.scanRoots = values['scan-root'];
  if (values.password?.length) config.passwords = [...config.passwords, ...values.password];
  if (values['scan-interval']) {
    const n = Number(values['scan-interval']);
    if (!Number.isInteger(n) || n <= 0) throw new AgentConfigError('--scan-interval must be a positive number of seconds');
    config.scanIntervalSeconds = n;
  }
  if (values['probe-endpoints']) {
    const n = Number(values['probe-endpoints']);
    if (!Number.isInteger(n) || n < 0) throw new AgentConfigError('--probe-endpoints must be a number of seconds (0: off)');
    config.endpointProbeIntervalSeconds = n;
  }
  const runner = new AgentRunner(config, stderrLogger(values.verbose ? 'debug' : 'info'));
  runner.start();
  await new Promise<void>((resolve) => {
    const stop = () => {
      runner.stop();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

tuneHeapForAgent();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`certfleet-agent: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
