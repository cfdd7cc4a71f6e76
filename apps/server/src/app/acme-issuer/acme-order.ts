// One ACME order (RFC 8555 section 7.4) for a CSR made on the agent: new order, one challenge per
// authorization (answered, then cleaned up whatever happened), finalize, download the chain.
import type * as acme from 'acme-client';
import type { Authorization } from 'acme-client';

type Challenge = Authorization['challenges'][number];

/** Answers one kind of challenge: HTTP-01 through the agent, DNS-01 through a DNS provider. */
export interface ChallengeAnswerer {
  readonly type: 'http-01' | 'dns-01';
  present(identifier: string, token: string, keyAuthorization: string): Promise<void>;
  cleanup(identifier: string, token: string, keyAuthorization: string): Promise<void>;
}

export interface OrderRequest {
  csrPem: string;
  dnsNames: string[];
  ipAddresses: string[];
  answerer: ChallengeAnswerer;
  /** ARI (RFC 9773): the CertID of the certificate this order replaces. */
  replaces?: string;
  onCleanupError?(error: Error): void;
}

export interface OrderResult {
  /** Leaf first, then the intermediates, as the CA sent them. */
  fullchainPem: string;
  orderUrl: string;
}

export async function runAcmeOrder(client: acme.Client, req: OrderRequest): Promise<OrderResult> {
  const identifiers = [...req.dnsNames.map((value) => ({ type: 'dns', value })), ...req.ipAddresses.map((value) => ({ type: 'ip', value }))];
  const order = await client.createOrder({ identifiers, ...(req.replaces ? { replaces: req.replaces } : {}) } as Parameters<acme.Client['createOrder']>[0]);
  const authorizations: Authorization[] = await client.getAuthorizations(order);
  // One at a time: a standalone HTTP-01 listener on one port serves one token at a time.
  for (const authz of authorizations) {
    if (authz.status === 'valid') continue;
    const challenge = authz.challenges.find((c: Challenge) => c.type === req.answerer.type);
    if (!challenge) {
      throw new Error(`the CA offers no ${req.answerer.type} challenge for ${authz.identifier.value} (offered: ${authz.challenges.map((c: Challenge) => c.type).join(', ') || 'none'})`);
    }
    // The key authorization itself (token.thumbprint); for DNS-01 acme-client would return only its digest.
    const value = await client.getChallengeKeyAuthorization({ ...challenge, type: 'http-01' } as Challenge);
    const token = (challenge as { token?: string }).token ?? '';
    await req.answerer.present(authz.identifier.value, token, value);
    try {
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    } finally {
      await req.answerer.cleanup(authz.identifier.value, token, value).catch((error: Error) => req.onCleanupError?.(error));
    }
  }
  const finalized = await client.finalizeOrder(order, req.csrPem);
  const valid = await client.waitForValidStatus(finalized);
  const fullchainPem = await client.getCertificate(valid);
  return { fullchainPem, orderUrl: order.url };
}
