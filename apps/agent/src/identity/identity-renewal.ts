import { Metadata, ServiceError } from '@grpc/grpc-js';
import { hostname } from 'node:os';
import { AgentServiceClient, RenewIdentityResponse } from '@certfleet/proto';
import { createKeyAndCsr, renewalTime } from '@certfleet/pki';
import { channelCredentials, targetNameOptions } from '../session/server-trust';
import { AgentIdentity, certificateValidity } from '../state/identity';
import { StateDir } from '../state/state-dir';
import { storeIssuedIdentity } from './issued-identity';

/** Due at 2/3 of the identity certificate's lifetime, with this agent's own jitter. */
export function identityRenewalDue(identity: AgentIdentity, now: Date): boolean {
  const { notBefore, notAfter } = certificateValidity(identity.certificatePem);
  return now >= renewalTime({ notBefore, notAfter, criticalMs: 0, jitterKey: identity.agentId });
}

/**
 * Renews this agent's mTLS identity: a new key generated here, a CSR signed with it, sent over a
 * connection authenticated by the current certificate. The new pair is checked and stored before
 * it is used; until then the server keeps accepting the current one.
 */
export async function renewIdentity(identity: AgentIdentity, state: StateDir, timeoutMs = 30_000): Promise<AgentIdentity> {
  const { privateKeyPem, csrPem } = await createKeyAndCsr(hostname());
  const client = new AgentServiceClient(identity.server, channelCredentials(identity.caCertificatesPem, identity), targetNameOptions(identity.server));
  let response: RenewIdentityResponse;
  try {
    response = await new Promise<RenewIdentityResponse>((resolve, reject) =>
      client.renewIdentity({ csrPem }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res))),
    );
  } catch (err) {
    const e = err as ServiceError;
    throw new Error(`identity renewal refused: ${e.details || e.message}`);
  } finally {
    client.close();
  }
  return storeIssuedIdentity(identity, state, privateKeyPem, response.certificatePem);
}
