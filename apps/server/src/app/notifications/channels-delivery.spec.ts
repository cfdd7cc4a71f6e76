import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { openTestDataSource } from '../../database/test-database';
import { FakeClock } from '../alerts/clock';
import { addAgent, addCertificate, alerting, DAY, webhookReceiver } from '../alerts/testing/alert-kit';
import { NotificationChannel } from './notification-channel.entity';
import { NotificationDelivery } from './notification-delivery.entity';

jest.setTimeout(60_000);

const KEY = 'delivery-test-hmac-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'cf-delivery-'));
// A self-signed certificate for the SMTP server's STARTTLS, made by openssl; nodemailer trusts it through caPem.
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-days', '2', '-keyout', join(dir, 'smtp.key'), '-out', join(dir, 'smtp.crt')], { stdio: 'ignore' });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Mail {
  from: string;
  to: string[];
  user: string;
  secure: boolean;
  data: string;
  at: number;
}

async function smtpServer(): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    key: readFileSync(join(dir, 'smtp.key')),
    cert: readFileSync(join(dir, 'smtp.crt')),
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'alerts' && auth.password === 'mail-secret') cb(null, { user: auth.username });
      else cb(new Error('invalid credentials'));
    },
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), user: String(session.user), secure: session.secure, data, at: Date.now() });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A loopback port nobody listens on (bound, read, released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.each(['pglite', 'postgresql'] as const)('notification delivery on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  const clock = new FakeClock(new Date('2027-05-01T00:00:00Z'));
  let kit: ReturnType<typeof alerting>;
  let flaky: Awaited<ReturnType<typeof webhookReceiver>>;
  let hanging: Awaited<ReturnType<typeof webhookReceiver>>;
  let smtp: Awaited<ReturnType<typeof smtpServer>>;
  const hookOut = join(dir, `hook-${database}.json`);

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'alert-delivery'));
    kit = alerting(ds, clock, { CERTFLEET_ALERT_DELIVERY_ATTEMPTS: '3' });
    [flaky, hanging, smtp] = await Promise.all([webhookReceiver(KEY, { failFirst: 2 }), webhookReceiver(KEY, { hang: true }), smtpServer()]);
    await kit.channels.add({ name: 'flaky', type: 'webhook', settings: { url: flaky.url }, secret: KEY }, 'test');
    await kit.channels.add({ name: 'hanging', type: 'webhook', settings: { url: hanging.url, timeoutSeconds: 2 }, secret: KEY }, 'test');
    await kit.channels.add({ name: 'refused', type: 'webhook', settings: { url: `http://127.0.0.1:${await closedPort()}/hook` }, secret: KEY }, 'test');
    await kit.channels.add(
      { name: 'mail', type: 'smtp', settings: { host: '127.0.0.1', port: smtp.port, tls: 'starttls', from: 'certfleet@example.com', to: ['ops@example.com'], mailOwners: true, username: 'alerts', caPem: readFileSync(join(dir, 'smtp.crt'), 'utf8') }, secret: 'mail-secret' },
      'test',
    );
    await kit.channels.add({ name: 'hook', type: 'command', settings: { command: ['/bin/sh', '-c', 'cat > "$0"', hookOut] } }, 'test');
    const agent = await addAgent(ds, 'db1', {}, new Date(clock.now().getTime() + DAY));
    const fp = await addCertificate(ds, agent, { name: 'db.example.com', path: '/etc/ssl/db.pem', notAfter: new Date(clock.now().getTime() - DAY) });
    await kit.ownership.set(fp, { team: 'dba', emails: ['dba@example.com'] }, 'test');
  });
  afterAll(async () => {
    await Promise.all([flaky?.close(), hanging?.close(), smtp?.close()]);
    await close?.();
  });

  const delivery = async (name: string) => {
    const c = await ds.getRepository(NotificationChannel).findOneByOrFail({ name });
    return ds.getRepository(NotificationDelivery).findOneByOrFail({ channelId: c.id });
  };

  it('keeps channel secrets encrypted at rest', async () => {
    const rows = await ds.getRepository(NotificationChannel).find();
    const secrets = rows.filter((r) => r.encryptedSecret).map((r) => r.encryptedSecret!);
    expect(secrets).toHaveLength(4);
    for (const s of secrets) expect(s.startsWith('cfk1.') && !s.includes(KEY) && !s.includes('mail-secret')).toBe(true);
    expect((await kit.channels.list()).every((c) => !JSON.stringify(c).includes(KEY))).toBe(true);
  });

  it('delivers to every channel at once: a refused or hanging channel does not hold up the others', async () => {
    expect((await kit.evaluator.evaluate()).notifications).toBe(5);
    const started = Date.now();
    const result = await kit.delivery.deliverDue();
    const took = Date.now() - started;
    expect(result).toEqual({ attempted: 5, delivered: 2, retrying: 3, failed: 0 });
    expect(took).toBeGreaterThanOrEqual(1900); // the hanging channel ran into its 2 s timeout...
    expect(took).toBeLessThan(10_000);
    expect(smtp.mails).toHaveLength(1); // ...while the mail had gone out long before
    expect(smtp.mails[0].at - started).toBeLessThan(1500);
    expect(smtp.mails[0]).toMatchObject({ from: 'certfleet@example.com', user: 'alerts', secure: true });
    expect(smtp.mails[0].to.sort()).toEqual(['dba@example.com', 'ops@example.com']);
    expect(smtp.mails[0].data.replace(/\r?\n[ \t]+/g, ' ')).toMatch(/Subject: \[CRITICAL\] expiry expired: db\.example\.com expired on 2027-04-30 \(1 day ago\) \(owner: dba\)/);
    const hook = JSON.parse(readFileSync(hookOut, 'utf8'));
    expect(hook).toMatchObject({ event: 'raised', kind: 'expiry', stageLabel: 'expired', owner: { team: 'dba' } });
    expect(await delivery('hanging')).toMatchObject({ status: 'pending', attempts: 1, lastError: 'timed out after 2000 ms' });
    expect((await delivery('refused')).lastError).toMatch(/fetch failed|ECONNREFUSED/);
    expect(await delivery('flaky')).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/^HTTP 500/) });
  });

  it('retries with backoff, records each attempt, and gives up after the last', async () => {
    expect(await kit.delivery.deliverDue()).toEqual({ attempted: 0, delivered: 0, retrying: 0, failed: 0 }); // not due yet
    clock.advanceMs(61_000);
    expect((await kit.delivery.deliverDue()).attempted).toBe(3);
    expect(await delivery('flaky')).toMatchObject({ status: 'pending', attempts: 2 });
    clock.advanceMs(121_000);
    const third = await kit.delivery.deliverDue();
    expect(third).toEqual({ attempted: 3, delivered: 1, retrying: 0, failed: 2 });
    const flakyRow = await delivery('flaky');
    expect(flakyRow).toMatchObject({ status: 'delivered', attempts: 3, lastError: null });
    expect(flakyRow.deliveredAt?.toISOString()).toBe(clock.now().toISOString());
    expect(flaky.received).toHaveLength(1);
    expect(flaky.received[0].body).toMatchObject({ event: 'raised', deliveryId: flakyRow.id, severity: 'critical' });
    expect(flaky.rejected).toEqual([]);
    expect(await delivery('refused')).toMatchObject({ status: 'failed', attempts: 3 });
    expect(smtp.mails).toHaveLength(1);
  });

  it('sends a test notification on demand and reports failures', async () => {
    expect(await kit.channels.test('mail', ['someone@example.com'])).toMatchObject({ delivered: true, error: null });
    expect(smtp.mails.at(-1)!.to).toEqual(['someone@example.com']);
    expect(await kit.channels.test('refused')).toMatchObject({ delivered: false });
    expect(existsSync(hookOut)).toBe(true);
    await expect(kit.channels.add({ name: 'bad', type: 'command', settings: { command: ['sh', '-c', 'true'] } }, 'test')).rejects.toThrow(/absolute/);
    // Programs run on the server: only those listed in CERTFLEET_SERVER_COMMANDS (here /bin/sh).
    await expect(kit.channels.add({ name: 'bad', type: 'command', settings: { command: ['/usr/bin/env', 'id'] } }, 'test')).rejects.toThrow(/"\/usr\/bin\/env" is not allowed.*CERTFLEET_SERVER_COMMANDS/);
    await expect(kit.channels.add({ name: 'bad', type: 'webhook', settings: { url: 'ftp://x' }, secret: KEY }, 'test')).rejects.toThrow(/http/);
    expect(await ds.getRepository(NotificationChannel).countBy({ name: 'bad' })).toBe(0);
  });
});
