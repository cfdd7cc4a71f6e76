// TLS endpoint monitoring and Certificate Transparency end to end: the built server, a real agent
// process and the CLI. The agent finds a TLS server the test runs on loopback among its host's
// listeners and reports it over its gRPC stream; the server probes a configured target; the CT
// monitor reads a loopback RFC 6962 log. PGlite here; the services' specs cover both databases.
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointTestPki, startNodeTlsServer } from '../../../libs/pki/src/endpoint-probe/testing/endpoint-test-pki';
import { TestCtLogServer } from '../src/app/ct-monitor/testing/ct-log-server';
import { agentCommand, cli, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

jest.setTimeout(180_000);

interface Observation {
  port: number;
  tls: boolean;
  probedBy: string;
  chainValid: boolean;
  hostnameMatch: boolean;
  process: string | null;
  linkedFiles: Array<{ path: string }>;
}

describe('endpoints and CT end to end', () => {
  const work = mkdtempSync(join(tmpdir(), 'cf-e2e-endpoints-'));
  const sites = join(work, 'sites');
  let pki: EndpointTestPki;
  let tls: { port: number; close(): Promise<void> };
  let ctLog: TestCtLogServer;
  let server: ServerProcess;
  let agent: ReturnType<typeof startAgentProcess> | undefined;
  let cliEnv: Record<string, string>;
  let agentId: string;
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json'], cliEnv);
    if (r.code !== 0) throw new Error(`certfleet ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    pki = new EndpointTestPki();
    tls = await startNodeTlsServer(pki.cases.good);
    // The served certificate is also a file the agent scans.
    mkdirSync(sites);
    copyFileSync(pki.cases.good.chainFile, join(sites, 'www-fullchain.pem'));
    ctLog = await new TestCtLogServer().start();
    const env = await testServerEnv(work, undefined, { CERTFLEET_ENDPOINT_PROBE_MINUTES: '0', CERTFLEET_CT_POLL_MINUTES: '0', CERTFLEET_ENDPOINT_CA_FILE: pki.root.write('trust.pem', pki.rootPem) });
    server = await startServerProcess(env);
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
  });

  afterAll(async () => {
    if (agent) await stopProcess(agent.child);
    if (server) await server.stop();
    await tls?.close();
    await ctLog?.close();
    pki?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('the agent reports the TLS listener on its host, linked to the file it serves', async () => {
    const token = await cli(['token', 'create', '--ttl', '1h'], cliEnv);
    const enrolled = await agentCommand(['enroll', '--server', `localhost:${server.grpcPort}`, '--token', token.stdout.trim(), '--ca-fingerprint', server.fingerprint, '--state-dir', join(work, 'agent')]);
    agentId = /enrolled as agent ([0-9a-f-]{36})/.exec(enrolled.stdout)![1];
    agent = startAgentProcess(['--state-dir', join(work, 'agent'), '--scan-root', sites, '--scan-interval', '3600', '--probe-endpoints', '3600']);
    const rows = await waitFor(
      () => json<Observation[]>(['endpoints', 'list', '--agent', agentId]).catch(() => [] as Observation[]),
      (list) => list.some((o) => o.port === tls.port && o.linkedFiles.length > 0),
      60_000,
      'the agent endpoint report',
    );
    const mine = rows.find((o) => o.port === tls.port)!;
    expect(mine).toMatchObject({ tls: true, process: expect.stringContaining(`(pid ${process.pid})`), linkedFiles: [{ path: join(sites, 'www-fullchain.pem') }] });
    // The agent trusts only the system roots: the test root is not among them.
    expect(mine.chainValid).toBe(false);
  });

  it('the server probes a configured target with SNI, against its configured trust', async () => {
    const target = await json<{ id: string }>(['endpoints', 'add', `127.0.0.1:${tls.port}`, '--sni', 'www.endpoint.test', '--agent', agentId]);
    expect(await json(['endpoints', 'probe', target.id])).toEqual({ probed: 1, tls: 1, failed: 0 });
    const rows = await json<Observation[]>(['endpoints', 'list']);
    expect(rows.find((o) => o.port === tls.port && o.probedBy === 'server')).toMatchObject({ chainValid: true, hostnameMatch: true, linkedFiles: [{ path: join(sites, 'www-fullchain.pem') }] });
    const shown = await cli(['endpoints', 'show', `127.0.0.1:${tls.port}/www.endpoint.test`], cliEnv);
    expect(shown.stdout).toContain('status:    ok');
  });

  it('an agent chosen for a target probes it from its host over its stream, against the trust the server sends', async () => {
    const target = await json<{ id: string }>(['endpoints', 'add', `localhost:${tls.port}`, '--sni', 'www.endpoint.test', '--agent', agentId, '--probe-from', agentId]);
    const [listed] = (await json<Array<{ id: string; probedBy: string }>>(['endpoints', 'targets'])).filter((t) => t.id === target.id);
    expect(listed.probedBy).not.toBe('server');
    expect(await json(['endpoints', 'probe', target.id])).toEqual({ probed: 1, tls: 1, failed: 0 });
    const rows = await json<Array<Observation & { host: string; targetId: string }>>(['endpoints', 'list']);
    // The agent alone trusts only the system roots; with the server's anchors the chain validates.
    expect(rows.find((o) => o.targetId === target.id)).toMatchObject({ host: 'localhost', probedBy: listed.probedBy, chainValid: true, hostnameMatch: true, linkedFiles: [{ path: join(sites, 'www-fullchain.pem') }] });
  });

  it('the CT monitor flags a logged certificate for a watched domain that certfleet does not know, not the one it knows', async () => {
    const known = new X509Certificate(pki.cases.good.leaf.raw); // in the agent's inventory
    const unknown = pki.cases.wrongHost.leaf; // elsewhere.example: watched below, known nowhere
    ctLog.addCertificate(Buffer.from(known.raw));
    ctLog.addCertificate(Buffer.from(unknown.raw));
    pki.root.write('log.pub', ctLog.key.publicKeyDer.toString('base64'));
    expect((await cli(['ct', 'logs', 'add', '--name', 'loopback', '--url', ctLog.url, '--key-file', pki.root.file('log.pub')], cliEnv)).code).toBe(0);
    for (const domain of ['endpoint.test', 'elsewhere.example']) expect((await cli(['ct', 'watch', 'add', domain], cliEnv)).code).toBe(0);
    expect(await json(['ct', 'poll'])).toEqual([expect.objectContaining({ log: 'loopback', read: 2, findings: 1, nextIndex: 2 })]);
    const findings = await json<Array<{ dnsNames: string[]; fingerprintSha256: string }>>(['ct', 'findings']);
    expect(findings).toEqual([expect.objectContaining({ dnsNames: ['elsewhere.example'], fingerprintSha256: unknown.fingerprint256.replace(/:/g, '').toLowerCase() })]);
  });
});
