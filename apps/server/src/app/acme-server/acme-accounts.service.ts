import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, In, IsNull } from 'typeorm';
import { isUuid } from '../../common/ids';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { AcmeAccount } from './acme-account.entity';
import { AcmeEabKey } from './acme-eab-key.entity';
import { AcmeOrder } from './acme-order.entity';
import { AcmeProblem } from './acme-problem';
import type { AcmeDirectory, AuthenticatedRequest } from './acme-request';
import { jwkThumbprint, parseJws, publicJwk, verifyExternalAccountBinding, verifyJwsSignature, type Jwk } from './jws';

export interface AcmeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const MAX_CONTACTS = 10;

/** Accounts (RFC 8555 7.3): creation with optional external account binding, update, deactivation, key rollover. */
@Injectable()
export class AcmeAccountsService {
  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FleetCaService) private readonly sealer: FleetCaService,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  eabRequired(dir: AcmeDirectory): boolean {
    return dir.isNamed(this.config.acme.eabRequired);
  }

  /** An EAB key for one CA's directory (or any): the HMAC key is shown once and kept sealed. */
  async createEabKey(caRef: string | undefined, description: string, actor: string): Promise<{ kid: string; hmacKey: string; issuingCaId: string | null }> {
    const ca = caRef ? await this.cas.find(caRef) : null;
    const hmacKey = randomBytes(32).toString('base64url');
    const saved = await this.ds.transaction(async (m) => {
      const row = await m.getRepository(AcmeEabKey).save({ issuingCaId: ca?.id ?? null, encryptedHmacKey: this.sealer.sealPrivateKey(hmacKey), description: description.slice(0, 200), createdBy: actor, usedAt: null, accountId: null });
      await this.audit.record(m, { actor, action: 'acme.eab-key.created', subjectType: 'acme-eab-key', subjectId: row.id, detail: { issuingCaId: ca?.id ?? null, description: row.description } });
      return row;
    });
    return { kid: saved.id, hmacKey, issuingCaId: saved.issuingCaId };
  }

  async newAccount(dir: AcmeDirectory, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const payload = req.payload ?? {};
    const jwk = publicJwk(req.jwk);
    const thumbprint = jwkThumbprint(jwk);
    const existing = await this.ds.getRepository(AcmeAccount).findOne({ where: { issuingCaId: In(dir.caIds), keyThumbprint: thumbprint } });
    if (existing) return { status: 200, body: this.view(dir, existing), headers: { Location: dir.account(existing.id) } };
    if (payload.onlyReturnExisting === true) throw new AcmeProblem('accountDoesNotExist', 'no account exists for this key');
    const contact = this.contacts(payload.contact);
    const eab = payload.externalAccountBinding;
    if (eab === undefined && this.eabRequired(dir)) throw new AcmeProblem('externalAccountRequired', `the directory of CA "${dir.ca.name}" requires external account binding (certfleet acme eab create --ca ${dir.ca.name})`);
    let eabKid: string | null = null;
    if (eab !== undefined) {
      // The key is loaded (and unsealed) only for the kid the client names.
      const named = parseJws(Buffer.from(JSON.stringify(eab ?? null))).header.kid;
      const row = typeof named === 'string' ? await this.eabKeyFor(dir, named) : null;
      eabKid = verifyExternalAccountBinding(eab, jwk, dir.url('new-account'), (kid) => (row && row.id === kid ? Buffer.from(this.sealer.openPrivateKey(row.encryptedHmacKey), 'base64url') : null));
    }
    return this.createAccount(dir, jwk, thumbprint, contact, eabKid);
  }

  private async createAccount(dir: AcmeDirectory, jwk: Jwk, thumbprint: string, contact: string[], eabKid: string | null): Promise<AcmeAnswer> {
    const account = await this.ds.transaction(async (m) => {
      const again = await m.getRepository(AcmeAccount).findOne({ where: { issuingCaId: In(dir.caIds), keyThumbprint: thumbprint } });
      if (again) return again;
      const created = await m.getRepository(AcmeAccount).save({ issuingCaId: dir.ca.id, keyThumbprint: thumbprint, jwk, status: 'valid', contact, eabKeyId: eabKid });
      if (eabKid) {
        // Single use: the conditional update decides between two accounts racing for one key.
        const used = await m.getRepository(AcmeEabKey).update({ id: eabKid, usedAt: IsNull() }, { usedAt: new Date(), accountId: created.id });
        if (used.affected !== 1) throw new AcmeProblem('unauthorized', 'this external account key was already used');
      }
      await this.audit.record(m, { actor: `acme:${created.id}`, action: 'acme.account.created', subjectType: 'acme-account', subjectId: created.id, detail: { issuingCaId: dir.ca.id, keyThumbprint: thumbprint, eabKeyId: eabKid, contacts: contact.length } });
      return created;
    });
    return { status: 201, body: this.view(dir, account), headers: { Location: dir.account(account.id) } };
  }

  /** The EAB key a client names, if usable at this directory (unused, for this CA or any). */
  async eabKeyFor(dir: AcmeDirectory, kid: string): Promise<AcmeEabKey | null> {
    if (!isUuid(kid)) return null;
    const row = await this.ds.getRepository(AcmeEabKey).findOne({ where: { id: kid } });
    if (!row || row.usedAt || (row.issuingCaId && !dir.caIds.includes(row.issuingCaId))) return null;
    return row;
  }

  /** POST to the account URL: read (empty payload), update contacts, or deactivate. */
  async update(dir: AcmeDirectory, id: string, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const account = req.account!;
    if (account.id !== id) throw new AcmeProblem('unauthorized', 'a request for an account must be signed by that account');
    const payload = req.payload;
    if (payload && (payload.status !== undefined || payload.contact !== undefined)) {
      if (payload.status !== undefined && payload.status !== 'deactivated') throw new AcmeProblem('malformed', 'an account\'s status can only be set to "deactivated"');
      const changes: Partial<AcmeAccount> = {};
      if (payload.contact !== undefined) changes.contact = this.contacts(payload.contact);
      if (payload.status === 'deactivated') changes.status = 'deactivated';
      await this.ds.transaction(async (m) => {
        await m.getRepository(AcmeAccount).update({ id }, changes);
        if (changes.status) await m.query(`UPDATE "acme_authorizations" SET "status" = 'deactivated' WHERE "account_id" = $1 AND "status" IN ('pending', 'valid')`, [id]);
        await this.audit.record(m, { actor: `acme:${id}`, action: changes.status ? 'acme.account.deactivated' : 'acme.account.updated', subjectType: 'acme-account', subjectId: id, detail: { contacts: (changes.contact ?? account.contact).length } });
      });
      Object.assign(account, changes);
    }
    return { status: 200, body: this.view(dir, account), headers: { Location: dir.account(id) } };
  }

  /** RFC 8555 7.3.5: the inner JWS, signed by the new key, names the account and its old key. */
  async keyChange(dir: AcmeDirectory, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const account = req.account!;
    const inner = parseJws(Buffer.from(JSON.stringify(req.payload ?? null)));
    if (!inner.header.jwk) throw new AcmeProblem('malformed', 'the inner JWS of a key change must carry the new key as "jwk"');
    if (inner.header.nonce !== undefined) throw new AcmeProblem('malformed', 'the inner JWS of a key change must not have a nonce');
    if (inner.header.url !== req.jws.header.url) throw new AcmeProblem('malformed', 'the inner and outer JWS "url" differ');
    verifyJwsSignature(inner, inner.header.jwk);
    let body: { account?: unknown; oldKey?: Jwk };
    try {
      body = JSON.parse(inner.payload.toString('utf8'));
    } catch {
      throw new AcmeProblem('malformed', 'the inner payload is not JSON');
    }
    if (body?.account !== dir.account(account.id)) throw new AcmeProblem('malformed', 'the inner payload names another account');
    if (!body.oldKey || typeof body.oldKey !== 'object' || jwkThumbprint(body.oldKey) !== account.keyThumbprint) throw new AcmeProblem('malformed', '"oldKey" is not the account\'s current key');
    const newJwk = publicJwk(inner.header.jwk);
    const thumbprint = jwkThumbprint(newJwk);
    await this.ds.transaction(async (m) => {
      const taken = await m.getRepository(AcmeAccount).findOne({ where: { issuingCaId: In(dir.caIds), keyThumbprint: thumbprint } });
      if (taken) throw new AcmeProblem('malformed', 'the new key is already used by an account', 409, { Location: dir.account(taken.id) });
      await m.getRepository(AcmeAccount).update({ id: account.id }, { jwk: newJwk, keyThumbprint: thumbprint });
      await this.audit.record(m, { actor: `acme:${account.id}`, action: 'acme.account.key-changed', subjectType: 'acme-account', subjectId: account.id, detail: { before: { keyThumbprint: account.keyThumbprint }, after: { keyThumbprint: thumbprint } } });
    });
    return { status: 200, body: this.view(dir, { ...account, jwk: newJwk }), headers: { Location: dir.account(account.id) } };
  }

  async orders(dir: AcmeDirectory, id: string, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    if (req.account!.id !== id) throw new AcmeProblem('unauthorized', 'only the account itself may list its orders');
    const rows = await this.ds.getRepository(AcmeOrder).find({ where: { accountId: id }, order: { createdAt: 'DESC' }, take: 1000 });
    return { status: 200, body: { orders: rows.filter((o) => o.status !== 'invalid').map((o) => dir.order(o.id)) } };
  }

  private contacts(raw: unknown): string[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw) || raw.length > MAX_CONTACTS) throw new AcmeProblem('malformed', `"contact" must be an array of at most ${MAX_CONTACTS} URLs`);
    return raw.map((c) => {
      if (typeof c !== 'string' || !/^mailto:[^\s,@]+@[^\s,@]+$/.test(c) || c.length > 254) throw new AcmeProblem('malformed', `unsupported contact ${JSON.stringify(c).slice(0, 80)}: only one mailto: address each`);
      return c;
    });
  }

  view(dir: AcmeDirectory, a: Pick<AcmeAccount, 'id' | 'status' | 'contact' | 'jwk'>): Record<string, unknown> {
    return { status: a.status, contact: a.contact, key: a.jwk, orders: `${dir.account(a.id)}/orders` };
  }
}
