import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadServerConfig } from '../../config/server-config';
import { openTestDataSource } from '../../database/test-database';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import type { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import type { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { AcmeAccount } from './acme-account.entity';
import { AcmeAccountsService } from './acme-accounts.service';
import { AcmeEabKey } from './acme-eab-key.entity';
import { AcmeProblem } from './acme-problem';
import { AcmeDirectory, AcmeRequestVerifier } from './acme-request';
import { jwkThumbprint } from './jws';
import { signEab, signJws, testKey, type TestKey } from './jws-test-kit';
import { NonceStore } from './nonce-store';

jest.setTimeout(120_000);

const BASE = 'http://127.0.0.1:8080/acme/lab';
const work = mkdtempSync(join(tmpdir(), 'cf-acme-request-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The checks every ACME POST goes through (nonce, URL, key, account) and account creation with EAB,
// against a real database: hostile requests get the RFC's problem and change nothing.
describe.each(['pglite', 'postgresql'] as const)('ACME requests on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let nonces: NonceStore;
  let verifier: AcmeRequestVerifier;
  let accounts: AcmeAccountsService;
  let dir: AcmeDirectory;
  const counts = async () => ({
    nonces: Number((await ds.query(`SELECT count(*)::int AS n FROM "acme_nonces"`))[0].n),
    accounts: Number((await ds.query(`SELECT count(*)::int AS n FROM "acme_accounts"`))[0].n),
    eabUsed: Number((await ds.query(`SELECT count(*)::int AS n FROM "acme_eab_keys" WHERE "used_at" IS NOT NULL`))[0].n),
  });
  const post = async (key: TestKey, url: string, header: Record<string, unknown>, payload: unknown, mode: 'kid' | 'jwk' | 'either' = 'jwk') =>
    verifier.verify(dir, url, Buffer.from(JSON.stringify(signJws(key, { url, ...header }, payload))), mode);
  const problemOf = async (p: Promise<unknown>): Promise<AcmeProblem> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof AcmeProblem) return err;
      throw err;
    }
    throw new Error('expected an ACME problem');
  };
  const newAccount = async (key: TestKey, payload: Record<string, unknown>) => {
    const r = await post(key, `${BASE}/new-account`, { nonce: await nonces.issue(), jwk: key.jwk }, payload);
    return accounts.newAccount(dir, r);
  };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'acme_request'));
    const config = loadServerConfig({ CERTFLEET_DATA_DIR: join(work, database), CERTFLEET_ACME_EAB_REQUIRED: 'lab' });
    const sealer = new FleetCaService(config, ds);
    await sealer.onModuleInit();
    nonces = new NonceStore(ds);
    verifier = new AcmeRequestVerifier(ds, nonces);
    accounts = new AcmeAccountsService(config, ds, sealer, {} as IssuingCasService, new AuditService(ds));
    dir = new AcmeDirectory([{ id: randomUUID(), name: 'lab', status: 'active' } as IssuingCa], BASE);
  });
  afterAll(() => close?.());

  it('accepts a nonce once: a replay is badNonce', async () => {
    const key = testKey();
    const nonce = await nonces.issue();
    await post(key, `${BASE}/new-account`, { nonce, jwk: key.jwk }, {});
    const replay = await problemOf(post(key, `${BASE}/new-account`, { nonce, jwk: key.jwk }, {}));
    expect(replay.toDocument()).toMatchObject({ type: 'urn:ietf:params:acme:error:badNonce', status: 400 });
    expect((await problemOf(post(key, `${BASE}/new-account`, { nonce: 'never-issued', jwk: key.jwk }, {}))).type).toBe('badNonce');
    expect((await problemOf(post(key, `${BASE}/new-account`, { jwk: key.jwk }, {}))).type).toBe('badNonce');
  });

  it('refuses a wrong URL, a bad signature and a kid where a jwk belongs without using up the nonce', async () => {
    const key = testKey();
    const nonce = await nonces.issue();
    const before = await counts();
    const wrongUrl = signJws(key, { url: `${BASE}/new-order`, nonce, jwk: key.jwk }, {});
    expect((await problemOf(verifier.verify(dir, `${BASE}/new-account`, Buffer.from(JSON.stringify(wrongUrl)), 'jwk'))).type).toBe('unauthorized');
    const forged = { ...signJws(testKey(), { url: `${BASE}/new-account`, nonce, jwk: key.jwk }, {}) };
    expect((await problemOf(verifier.verify(dir, `${BASE}/new-account`, Buffer.from(JSON.stringify(forged)), 'jwk'))).type).toBe('malformed');
    expect((await problemOf(post(key, `${BASE}/new-account`, { nonce, kid: `${BASE}/acct/${randomUUID()}` }, {}, 'jwk'))).type).toBe('malformed');
    expect(await counts()).toEqual(before);
    // The nonce is still good for a proper request.
    await expect(post(key, `${BASE}/new-account`, { nonce, jwk: key.jwk }, {})).resolves.toMatchObject({ jwk: key.jwk });
  });

  it('answers an unknown or foreign kid with accountDoesNotExist, a deactivated account with unauthorized', async () => {
    const key = testKey();
    expect((await problemOf(post(key, `${BASE}/new-order`, { nonce: await nonces.issue(), kid: `${BASE}/acct/${randomUUID()}` }, {}, 'kid'))).type).toBe('accountDoesNotExist');
    expect((await problemOf(post(key, `${BASE}/new-order`, { nonce: await nonces.issue(), kid: 'http://elsewhere.test/acct/1' }, {}, 'kid'))).type).toBe('accountDoesNotExist');
    const account = await ds.getRepository(AcmeAccount).save({ issuingCaId: dir.ca.id, keyThumbprint: 'x'.repeat(43), jwk: key.jwk, status: 'deactivated', contact: [], eabKeyId: null });
    expect((await problemOf(post(key, `${BASE}/new-order`, { nonce: await nonces.issue(), kid: dir.account(account.id) }, {}, 'kid'))).type).toBe('unauthorized');
  });

  it('rolls the account key over (inner JWS by the new key), refuses a mismatched inner JWS and a taken key', async () => {
    const oldKey = testKey();
    const account = await ds.getRepository(AcmeAccount).save({ issuingCaId: dir.ca.id, keyThumbprint: jwkThumbprint(oldKey.jwk), jwk: oldKey.jwk, status: 'valid', contact: [], eabKeyId: null });
    const url = `${BASE}/key-change`;
    const rollover = async (newKey: TestKey, inner: Record<string, unknown>, innerHeader: Record<string, unknown> = {}) => {
      const r = await post(oldKey, url, { nonce: await nonces.issue(), kid: dir.account(account.id) }, signJws(newKey, { url, jwk: newKey.jwk, ...innerHeader }, inner), 'kid');
      return accounts.keyChange(dir, r);
    };
    const newKey = testKey();
    expect((await problemOf(rollover(newKey, { account: dir.account(randomUUID()), oldKey: oldKey.jwk }))).message).toMatch(/another account/);
    expect((await problemOf(rollover(newKey, { account: dir.account(account.id), oldKey: testKey().jwk }))).message).toMatch(/oldKey/);
    expect((await problemOf(rollover(newKey, { account: dir.account(account.id), oldKey: oldKey.jwk }, { url: `${BASE}/new-order` }))).message).toMatch(/url/);
    const taken = await ds.getRepository(AcmeAccount).save({ issuingCaId: dir.ca.id, keyThumbprint: jwkThumbprint(testKey().jwk), jwk: testKey().jwk, status: 'valid', contact: [], eabKeyId: null });
    const takenKey = testKey();
    await ds.getRepository(AcmeAccount).update({ id: taken.id }, { jwk: takenKey.jwk, keyThumbprint: jwkThumbprint(takenKey.jwk) });
    const conflict = await problemOf(rollover(takenKey, { account: dir.account(account.id), oldKey: oldKey.jwk }));
    expect(conflict.status).toBe(409);
    expect(conflict.headers.Location).toBe(dir.account(taken.id));
    expect((await ds.getRepository(AcmeAccount).findOneByOrFail({ id: account.id })).keyThumbprint).toBe(jwkThumbprint(oldKey.jwk));

    await rollover(newKey, { account: dir.account(account.id), oldKey: oldKey.jwk });
    expect((await ds.getRepository(AcmeAccount).findOneByOrFail({ id: account.id })).keyThumbprint).toBe(jwkThumbprint(newKey.jwk));
    // The old key no longer speaks for the account; the new one does.
    expect((await problemOf(post(oldKey, `${BASE}/new-order`, { nonce: await nonces.issue(), kid: dir.account(account.id) }, {}, 'kid'))).type).toBe('malformed');
    await expect(post(newKey, `${BASE}/new-order`, { nonce: await nonces.issue(), kid: dir.account(account.id) }, {}, 'kid')).resolves.toMatchObject({ account: { id: account.id } });
  });

  it('requires external account binding at this directory, and a key binds one account only', async () => {
    const key = testKey();
    const before = await counts();
    expect((await problemOf(newAccount(key, { termsOfServiceAgreed: true }))).toDocument()).toMatchObject({ type: 'urn:ietf:params:acme:error:externalAccountRequired' });
    const { kid, hmacKey } = await accounts.createEabKey(undefined, 'spec', 'token:spec');
    const sealed = await ds.getRepository(AcmeEabKey).findOneByOrFail({ id: kid });
    expect(sealed.encryptedHmacKey).not.toContain(hmacKey);
    const wrongMac = await problemOf(newAccount(key, { externalAccountBinding: signEab(kid, Buffer.alloc(32), `${BASE}/new-account`, key.jwk) }));
    expect(wrongMac.type).toBe('unauthorized');
    expect(await counts()).toMatchObject({ accounts: before.accounts, eabUsed: before.eabUsed });

    const created = await newAccount(key, { contact: ['mailto:ops@example.com'], externalAccountBinding: signEab(kid, Buffer.from(hmacKey, 'base64url'), `${BASE}/new-account`, key.jwk) });
    expect(created).toMatchObject({ status: 201, body: { status: 'valid', contact: ['mailto:ops@example.com'] } });
    expect((await newAccount(key, { onlyReturnExisting: true })).headers!.Location).toBe(created.headers!.Location);

    const other = testKey();
    const reused = await problemOf(newAccount(other, { externalAccountBinding: signEab(kid, Buffer.from(hmacKey, 'base64url'), `${BASE}/new-account`, other.jwk) }));
    expect(reused.type).toBe('unauthorized');
    expect((await problemOf(newAccount(other, { onlyReturnExisting: true }))).type).toBe('accountDoesNotExist');
    expect(await counts()).toMatchObject({ accounts: before.accounts + 1, eabUsed: before.eabUsed + 1 });
  });
});
