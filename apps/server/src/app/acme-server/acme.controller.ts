import { Controller, Get, Head, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { revocationReasonCode, type RevocationReason } from '@certfleet/pki';
import { Public } from '../auth/admin-auth.guard';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { PkiUrls } from '../issuing-cas/pki-urls';
import { REVOKE_REASONS, RevocationService } from '../revocation/revocation.service';
import { AcmeAccountsService, type AcmeAnswer } from './acme-accounts.service';
import { AcmeOrdersService } from './acme-orders.service';
import { AcmeProblem } from './acme-problem';
import { AcmeDirectory, AcmeRequestVerifier, type AuthenticatedRequest } from './acme-request';
import { MAX_JWS_BYTES } from './jws';
import { NonceStore } from './nonce-store';
import { AcmeRenewalInfoService } from './renewal-info.service';

type KeyMode = 'kid' | 'jwk' | 'either';
/** What Express adds to Node's request that is used here. */
type Request = IncomingMessage & { originalUrl: string; params: Record<string, string | undefined> };
type Response = ServerResponse;

/**
 * RFC 8555 for each internal issuing CA at <public URL>/acme/<CA name or id>/directory. No admin
 * token: ACME requests authenticate themselves (JWS). Every answer carries a fresh Replay-Nonce.
 */
@ApiExcludeController()
@Public()
@Controller('acme/:ca')
export class AcmeController {
  private readonly logger = new Logger('Acme');

  constructor(
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(PkiUrls) private readonly urls: PkiUrls,
    @Inject(NonceStore) private readonly nonces: NonceStore,
    @Inject(AcmeRequestVerifier) private readonly verifier: AcmeRequestVerifier,
    @Inject(AcmeAccountsService) private readonly accounts: AcmeAccountsService,
    @Inject(AcmeOrdersService) private readonly orders: AcmeOrdersService,
    @Inject(RevocationService) private readonly revocation: RevocationService,
    @Inject(AcmeRenewalInfoService) private readonly renewal: AcmeRenewalInfoService,
  ) {}

  @Get('directory')
  directory(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.answer(req, res, async (dir) => ({
      status: 200,
      body: {
        newNonce: dir.url('new-nonce'),
        newAccount: dir.url('new-account'),
        newOrder: dir.url('new-order'),
        revokeCert: dir.url('revoke-cert'),
        keyChange: dir.url('key-change'),
        renewalInfo: dir.url('renewal-info'),
        meta: { externalAccountRequired: this.accounts.eabRequired(dir), website: this.urls.baseUrl },
      },
    }));
  }

  @Head('new-nonce')
  headNonce(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.answer(req, res, async () => ({ status: 200 }));
  }

  @Get('new-nonce')
  getNonce(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.answer(req, res, async () => ({ status: 204 }));
  }

  /** RFC 9773: unauthenticated GET of the suggested renewal window of a certificate this CA issued. */
  @Get('renewal-info/:certId')
  renewalInfo(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.answer(req, res, (dir) => this.renewal.renewalInfo(dir, req.params.certId ?? ''));
  }

  @Post('new-account')
  newAccount(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'jwk', (dir, r) => this.accounts.newAccount(dir, r));
  }

  @Post('key-change')
  keyChange(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => this.accounts.keyChange(dir, r));
  }

  @Post('acct/:id')
  account(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => this.accounts.update(dir, req.params.id as string, r));
  }

  @Post('acct/:id/orders')
  accountOrders(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => this.accounts.orders(dir, req.params.id as string, r));
  }

  @Post('new-order')
  newOrder(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => {
      if (dir.ca.status !== 'active') throw new AcmeProblem('unauthorized', `issuing CA "${dir.ca.name}" is ${dir.ca.status}: it issues nothing`);
      return this.orders.newOrder(dir, r);
    });
  }

  @Post('order/:id')
  order(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => this.orders.order(dir, req.params.id as string, r));
  }

  @Post('order/:id/finalize')
  finalize(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => this.orders.finalize(dir, req.params.id as string, r));
  }

  @Post('authz/:id')
  authz(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => this.orders.authorization(dir, req.params.id as string, r));
  }

  @Post('chall/:id/:type')
  challenge(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', (dir, r) => this.orders.challenge(dir, req.params.id as string, req.params.type as string, r));
  }

  @Post('cert/:serial')
  certificate(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'kid', async (dir, r) => ({ status: 200, body: await this.orders.certificate(dir, req.params.serial as string, r), headers: { 'Content-Type': 'application/pem-certificate-chain' } }));
  }

  @Post('revoke-cert')
  revokeCert(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.signed(req, res, 'either', async (dir, r) => {
      const { serial, reasonCode } = await this.orders.revocationTarget(dir, r);
      const reason = reasonCode === undefined ? 'unspecified' : REVOKE_REASONS.find((name: RevocationReason) => revocationReasonCode(name) === reasonCode);
      if (!reason) throw new AcmeProblem('badRevocationReason', `reason ${JSON.stringify(reasonCode).slice(0, 20)} is not allowed; use one of ${REVOKE_REASONS.map((n) => `${revocationReasonCode(n)} (${n})`).join(', ')}`);
      await this.revocation.revokeSerials([serial], reason, r.account ? `acme:${r.account.id}` : 'acme:certificate-key', { context: { via: 'acme' } });
      return { status: 200 };
    });
  }

  /** A JWS-signed POST: read the body (bounded), verify it, then act. */
  private signed(req: Request, res: Response, keyMode: KeyMode, act: (dir: AcmeDirectory, r: AuthenticatedRequest) => Promise<AcmeAnswer>): Promise<void> {
    return this.answer(req, res, async (dir) => {
      if (!/^application\/jose\+json\b/i.test(req.headers['content-type'] ?? '')) throw new AcmeProblem('malformed', 'Content-Type must be application/jose+json', 415);
      const body = await readBody(req, MAX_JWS_BYTES);
      const verified = await this.verifier.verify(dir, `${this.publicBase()}${req.originalUrl}`, body, keyMode);
      return act(dir, verified);
    });
  }

  private async answer(req: Request, res: Response, act: (dir: AcmeDirectory) => Promise<AcmeAnswer>): Promise<void> {
    let dir: AcmeDirectory | undefined;
    let answer: AcmeAnswer;
    try {
      dir = await this.directoryOf(req);
      answer = await act(dir);
    } catch (err) {
      const problem = err instanceof AcmeProblem ? err : new AcmeProblem('serverInternal', 'internal error', 500);
      if (!(err instanceof AcmeProblem)) this.logger.error(`${req.method} ${req.originalUrl}: ${(err as Error).stack ?? err}`);
      answer = { status: problem.status, body: problem.toDocument(), headers: { 'Content-Type': 'application/problem+json', ...problem.headers } };
    }
    try {
      res.setHeader('Replay-Nonce', await this.nonces.issue());
    } catch (err) {
      this.logger.error(`cannot issue a nonce: ${(err as Error).message}`);
    }
    res.setHeader('Cache-Control', 'no-store');
    if (dir) res.setHeader('Link', `<${dir.directoryUrl}>;rel="index"${answer.headers?.Link ? `, ${answer.headers.Link}` : ''}`);
    for (const [name, value] of Object.entries(answer.headers ?? {})) if (name !== 'Link') res.setHeader(name, value);
    res.statusCode = answer.status;
    if (answer.body === undefined) {
      res.end();
      return;
    }
    if (typeof answer.body === 'string') {
      if (!res.getHeader('Content-Type')) res.setHeader('Content-Type', 'text/plain');
      res.end(answer.body);
      return;
    }
    if (!res.getHeader('Content-Type')) res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(answer.body));
  }

  private publicBase(): string {
    const base = this.urls.baseUrl;
    if (!base) throw new AcmeProblem('serverInternal', 'the server does not know its public URL yet', 503);
    return base;
  }

  private async directoryOf(req: Request): Promise<AcmeDirectory> {
    const raw = req.originalUrl.split('?')[0].split('/')[2] ?? '';
    let ref: string;
    try {
      ref = decodeURIComponent(raw);
    } catch {
      throw new AcmeProblem('malformed', 'bad CA name in the URL', 404);
    }
    const succession = await this.cas.findSuccession(ref).catch(() => null);
    const dir = succession && new AcmeDirectory(succession, `${this.publicBase()}/acme/${raw}`);
    if (!dir?.ca.certificatePem) throw new AcmeProblem('malformed', `no issuing CA "${ref.slice(0, 100)}" with an ACME directory here`, 404);
    return dir;
  }
}

function readBody(req: Request, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new AcmeProblem('malformed', `request body over ${limit} bytes`, 413));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new AcmeProblem('malformed', `request body over ${limit} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
