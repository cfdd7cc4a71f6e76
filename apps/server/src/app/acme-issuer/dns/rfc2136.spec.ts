// The RFC 2136 provider against a real BIND named: TSIG-signed updates it accepts (checked with
// dig), refusals with the server's reason, and the hook provider's contract.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digTxt, startNamed, TestNamed } from '../../../../e2e/support/named';
import { dnsAnswerer, HookProvider, Rfc2136Provider } from './dns-answerer';
import { queryTxt, updateTxt } from './rfc2136';

jest.setTimeout(60_000);

describe('RFC 2136 DNS-01 provider against named', () => {
  const work = mkdtempSync(join(tmpdir(), 'cf-rfc2136-'));
  let named: TestNamed;
  const settings = () => ({ server: `127.0.0.1:${named.port}`, zone: named.zone, tsigKeyName: named.keyName, tsigAlgorithm: 'hmac-sha256' as const, tsigSecret: named.secret });

  beforeAll(async () => {
    named = await startNamed(join(work, 'named'));
  });
  afterAll(async () => {
    await named?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('adds the TXT record (waiting until the authoritative server has it) and removes only that value', async () => {
    const provider = new Rfc2136Provider(settings());
    const name = '_acme-challenge.www.example.test';
    await provider.present(name, 'www.example.test', 'first-value');
    await provider.present(name, 'www.example.test', 'second-value');
    expect(digTxt(named.port, name).sort()).toEqual(['first-value', 'second-value']);
    await provider.cleanup(name, 'www.example.test', 'first-value');
    expect(digTxt(named.port, name)).toEqual(['second-value']);
    expect(await queryTxt(`127.0.0.1:${named.port}`, name)).toEqual(['second-value']);
    await provider.cleanup(name, 'www.example.test', 'second-value');
    expect(digTxt(named.port, name)).toEqual([]);
  });

  it('answers a DNS-01 challenge with base64url(SHA-256(key authorization)) at _acme-challenge.<name>', async () => {
    const answerer = dnsAnswerer({ type: 'dns-01', provider: 'rfc2136', server: `127.0.0.1:${named.port}`, zone: named.zone, tsigKeyName: named.keyName, tsigAlgorithm: 'hmac-sha256', encryptedTsigSecret: 'sealed' }, (sealed) => (sealed === 'sealed' ? named.secret : ''));
    await answerer.present('*.wild.example.test', 'tok', 'tok.thumb');
    // RFC 8555 8.1/8.4 by hand: SHA-256 of "tok.thumb", base64url without padding.
    expect(digTxt(named.port, '_acme-challenge.wild.example.test')).toEqual([createHash('sha256').update('tok.thumb').digest('base64url')]);
    await answerer.cleanup('*.wild.example.test', 'tok', 'tok.thumb');
    expect(digTxt(named.port, '_acme-challenge.wild.example.test')).toEqual([]);
  });

  it('reports the refusal when the TSIG secret is wrong, and changes nothing', async () => {
    const wrong = { ...settings(), tsigSecret: Buffer.alloc(32, 7).toString('base64') };
    await expect(updateTxt(wrong, '_acme-challenge.bad.example.test', 'v', 'add')).rejects.toThrow(/NOTAUTH.*TSIG/);
    expect(digTxt(named.port, '_acme-challenge.bad.example.test')).toEqual([]);
  });

  it('reports a name outside the zone (NOTZONE) and an unreachable server', async () => {
    await expect(updateTxt(settings(), '_acme-challenge.other.test', 'v', 'add')).rejects.toThrow(/NOTZONE/);
    await expect(updateTxt({ ...settings(), server: '127.0.0.1:1' }, '_acme-challenge.www.example.test', 'v', 'add')).rejects.toThrow(/127\.0\.0\.1:1/);
  });
});

describe('hook DNS-01 provider', () => {
  const work = mkdtempSync(join(tmpdir(), 'cf-dnshook-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs the command with the action and the challenge in its environment', async () => {
    const log = join(work, 'calls');
    const hook = new HookProvider(`echo "$CERTFLEET_ACME_ACTION $CERTFLEET_ACME_DOMAIN $CERTFLEET_ACME_RECORD_NAME $CERTFLEET_ACME_TOKEN $CERTFLEET_ACME_KEY_AUTHORIZATION $CERTFLEET_ACME_TXT_VALUE" >> '${log}'`);
    await hook.present('_acme-challenge.a.example', 'a.example', 'txt', { token: 'tok', keyAuthorization: 'tok.th' });
    await hook.cleanup('_acme-challenge.a.example', 'a.example', 'txt', { token: 'tok', keyAuthorization: 'tok.th' });
    expect(readFileSync(log, 'utf8')).toBe('present a.example _acme-challenge.a.example tok tok.th txt\ncleanup a.example _acme-challenge.a.example tok tok.th txt\n');
  });

  it('fails with the exit code and what the script printed', async () => {
    const hook = new HookProvider('echo "zone is locked" >&2; exit 4');
    await expect(hook.present('_acme-challenge.a.example', 'a.example', 'txt', { token: 't', keyAuthorization: 't.k' })).rejects.toThrow(/present\) exited with code 4: zone is locked/);
  });
});
