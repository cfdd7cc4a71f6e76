// Expiry alerts end to end, as an operator runs them: the built server on PGlite, a real agent
// process scanning files made by openssl, an ownership rule and a webhook channel set with the CLI,
// and a real HTTP receiver that checks each delivery's HMAC signature. The certificate is renewed
// on disk and the alert resolves. Stage-by-stage escalation, silences and retries run with a fake
// clock in the services' specs (alert-flow, channels-delivery), on both databases.
import { execFileSync } from 'node:child_process';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webhookSignature } from '../src/app/notifications/channels/webhook.channel';
import { agentCommand, cli, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

jest.setTimeout(180_000);

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface AlertRow {
  id: string;
  kind: string;
  state: string;
  stageLabel: string;
  severity: string;
  title: string;
  ownerTeam: string | null;
}

const HMAC_KEY = 'e2e-webhook-key-0123456789abcdef';

describe('expiry alerts end to end', () => {
  const work = mkdtempSync(join(tmpdir(), 'cf-e2e-alerts-'));
  const sites = join(work, 'sites');
  const received: Received[] = [];
  let receiver: Server;
  let receiverUrl: string;
  let server: ServerProcess;
  let agent: ReturnType<typeof startAgentProcess> | undefined;
  let cliEnv: Record<string, string>;
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json'], cliEnv);
    if (r.code !== 0) throw new Error(`certfleet ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const ok = async (args: string[]): Promise<string> => {
    const r = await cli(args, cliEnv);
    if (r.code !== 0) throw new Error(`certfleet ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const inventory = async () => (await json<{ items: Array<{ fingerprintSha256: string }> }>(['certs'])).items;
  // A self-signed leaf for NAME valid DAYS from now, written where the agent scans.
  const certificate = (file: string, name: string, days: number) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, `${name}.key`), '-out', join(sites, file),
      '-days', String(days), '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-addext', 'basicConstraints=critical,CA:FALSE'], { stdio: 'pipe' });
  const fingerprint = (file: string) =>
    execFileSync('openssl', ['x509', '-in', join(sites, file), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1].trim().replace(/:/g, '').toLowerCase();

  beforeAll(async () => {
    mkdirSync(sites);
    certificate('shop.pem', 'pay.shop.e2e.test', 5);
    certificate('intranet.pem', 'wiki.e2e.test', 200);
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/certfleet`;
    // No scheduled passes: the test asks for each one, so what it sees follows from what it did.
    server = await startServerProcess(await testServerEnv(work, undefined, { CERTFLEET_ALERT_SECONDS: '0' }));
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    const token = (await ok(['token', 'create', '--ttl', '1h'])).trim();
    await agentCommand(['enroll', '--server', `localhost:${server.grpcPort}`, '--token', token, '--ca-fingerprint', server.fingerprint, '--state-dir', join(work, 'agent')]);
    agent = startAgentProcess(['--state-dir', join(work, 'agent'), '--scan-root', sites, '--scan-interval', '2']);
    await waitFor(() => inventory().catch(() => []), (rows) => rows.length === 2, 60_000, 'the two certificates in the inventory');
  });

  afterAll(async () => {
    if (agent) await stopProcess(agent.child);
    if (server) await server.stop();
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(work, { recursive: true, force: true });
  });

  it('raises one critical alert for the certificate inside 7 days, owned by rule, delivered signed to the webhook', async () => {
    writeFileSync(join(work, 'hook.key'), HMAC_KEY, { mode: 0o600 });
    await ok(['channels', 'add', 'webhook', 'ops-hook', '--url', receiverUrl, '--secret-file', join(work, 'hook.key')]);
    await ok(['owners', 'rules', 'add', 'shop', '--san', '*.shop.e2e.test', '--team', 'payments', '--email', 'pay@e2e.test']);
    expect(await json(['alerts', 'evaluate'])).toMatchObject({ opened: 1, resolved: 0, notifications: 1 });
    const [alert, ...others] = await json<AlertRow[]>(['alerts', 'list']);
    expect(others).toEqual([]);
    expect(alert).toMatchObject({ kind: 'expiry', state: 'open', stageLabel: '7d', severity: 'critical', ownerTeam: 'payments' });
    expect(alert.title).toMatch(/^pay\.shop\.e2e\.test expires on \d{4}-\d{2}-\d{2}$/);

    const [delivery] = await waitFor(async () => received, (r) => r.length === 1, 30_000, 'the webhook delivery');
    const timestamp = String(delivery.headers['x-certfleet-timestamp']);
    expect(delivery.headers['x-certfleet-signature']).toBe(webhookSignature(HMAC_KEY, timestamp, delivery.body));
    expect(JSON.parse(delivery.body)).toMatchObject({
      event: 'raised', alertId: alert.id, kind: 'expiry', stageLabel: '7d', severity: 'critical', owner: { team: 'payments', emails: ['pay@e2e.test'] },
      detail: { fingerprint: fingerprint('shop.pem'), locations: [expect.objectContaining({ path: join(sites, 'shop.pem') })] },
    });

    // The same state again: nothing new is sent.
    expect(await json(['alerts', 'evaluate'])).toMatchObject({ opened: 0, notifications: 0 });
    expect(await ok(['alerts', 'ack', alert.id])).toContain('acknowledged');
    expect((await json<AlertRow[]>(['alerts', 'list']))[0].state).toBe('acknowledged');
  });

  it('resolves when the file is renewed on disk, and tells the webhook once', async () => {
    const [alert] = await json<AlertRow[]>(['alerts', 'list']);
    const old = fingerprint('shop.pem');
    certificate('shop.pem', 'pay.shop.e2e.test', 90);
    await waitFor(
      inventory,
      (rows) => rows.length === 2 && !rows.some((r) => r.fingerprintSha256 === old),
      60_000,
      'the renewed certificate in the inventory',
    );
    expect(await json(['alerts', 'evaluate'])).toMatchObject({ opened: 0, resolved: 1, notifications: 1 });
    const [resolvedNote] = (await waitFor(async () => received, (r) => r.length === 2, 30_000, 'the resolution delivery')).slice(1);
    expect(JSON.parse(resolvedNote.body)).toMatchObject({ event: 'resolved', alertId: alert.id });
    expect(await json<AlertRow[]>(['alerts', 'list'])).toEqual([]);
    expect((await json<AlertRow[]>(['alerts', 'list', '--state', 'resolved'])).map((a) => a.id)).toEqual([alert.id]);
    expect(await json(['alerts', 'evaluate'])).toMatchObject({ opened: 0, resolved: 0, notifications: 0 });
    expect(received).toHaveLength(2);
  });
});
