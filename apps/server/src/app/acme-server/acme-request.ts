import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { isUuid } from '../../common/ids';
import type { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import { AcmeAccount } from './acme-account.entity';
import { AcmeProblem } from './acme-problem';
import { jsonPayload, parseJws, verifyJwsSignature, type Jwk, type ParsedJws } from './jws';
import { NonceStore } from './nonce-store';

/**
 * One ACME directory, at <public base>/acme/<CA name>. After a break-glass replacement it issues
 * from the successor CA, and its accounts, orders and certificates are those of every CA in the
 * succession, so that existing clients renew at the same URL with the same account.
 */
export class AcmeDirectory {
  /** The CA that issues now (the last of the succession). */
  readonly ca: IssuingCa;
  /** Ids of every CA in the succession: where accounts, orders and certificates are looked up. */
  readonly caIds: string[];

  constructor(
    /** The CAs standing for one another, oldest first (IssuingCasService.findSuccession); one in general. */
    readonly succession: IssuingCa[],
    /** <public base>/acme/<ca as in the request path> */
    readonly base: string,
  ) {
    this.ca = succession[succession.length - 1];
    this.caIds = succession.map((c) => c.id);
  }

  /** Whether a name given in configuration (CERTFLEET_ACME_*) designates this directory. */
  isNamed(names: readonly string[]): boolean {
    return names.includes('*') || this.succession.some((c) => names.includes(c.name));
  }

  get directoryUrl(): string {
    return `${this.base}/directory`;
  }
  url(kind: 'new-nonce' | 'new-account' | 'new-order' | 'revoke-cert' | 'key-change' | 'renewal-info'): string {
    return `${this.base}/${kind}`;
  }
  account(id: string): string {
    return `${this.base}/acct/${id}`;
  }
  order(id: string): string {
    return `${this.base}/order/${id}`;
  }
  authz(id: string): string {
    return `${this.base}/authz/${id}`;
  }
  challenge(authzId: string, type: string): string {
    return `${this.base}/chall/${authzId}/${type}`;
  }
  certificate(serial: string): string {
    return `${this.base}/cert/${serial}`;
  }
}

/** A POST whose JWS, nonce and URL checked out; signed by an account (kid) or by a bare key (jwk). */
export interface AuthenticatedRequest {
  jws: ParsedJws;
  /** null: POST-as-GET. */
  payload: Record<string, unknown> | null;
  account: AcmeAccount | null;
  /** The key that signed: the account's, or the embedded jwk. */
  jwk: Jwk;
}

/** RFC 8555 6.2-6.5: every POST is a JWS over the exact URL, with a fresh nonce, by a known key. */
@Injectable()
export class AcmeRequestVerifier {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(NonceStore) private readonly nonces: NonceStore,
  ) {}

  /**
   * `keyMode`: 'kid' requires an existing valid account, 'jwk' an embedded key (newAccount),
   * 'either' accepts both (revokeCert).
   */
  async verify(dir: AcmeDirectory, requestUrl: string, body: Buffer, keyMode: 'kid' | 'jwk' | 'either'): Promise<AuthenticatedRequest> {
    const jws = parseJws(body);
    const { header } = jws;
    if (header.url !== requestUrl) throw new AcmeProblem('unauthorized', `the JWS "url" ${JSON.stringify(header.url).slice(0, 200)} is not this request's URL ${requestUrl}`);
    let account: AcmeAccount | null = null;
    let jwk: Jwk;
    if (header.jwk !== undefined) {
      if (keyMode === 'kid') throw new AcmeProblem('malformed', 'this request must be signed by an account ("kid"), not an embedded "jwk"');
      jwk = header.jwk;
    } else {
      if (keyMode === 'jwk') throw new AcmeProblem('malformed', 'this request must carry the key as "jwk", not "kid"');
      const prefix = `${dir.base}/acct/`;
      const id = header.kid!.startsWith(prefix) ? header.kid!.slice(prefix.length) : '';
      account = isUuid(id) ? await this.ds.getRepository(AcmeAccount).findOne({ where: { id, issuingCaId: In(dir.caIds) } }) : null;
      if (!account) throw new AcmeProblem('accountDoesNotExist', `no account ${JSON.stringify(header.kid).slice(0, 200)} at this directory`);
      jwk = account.jwk;
    }
    verifyJwsSignature(jws, jwk);
    if (account && account.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${account.status}`);
    // Last, so a forged or misaddressed request does not use up the client's nonce.
    if (!(await this.nonces.consume(header.nonce))) throw new AcmeProblem('badNonce', 'the nonce is unknown, used or expired; retry with the Replay-Nonce of this answer');
    return { jws, payload: jsonPayload(jws), account, jwk };
  }
}
