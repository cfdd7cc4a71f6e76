import { Metadata, status as grpcStatus, ServiceError } from '@grpc/grpc-js';
import { EnrollmentServiceClient, EnrollResponse } from '@certfleet/proto';
import { createKeyAndCsr } from '@certfleet/pki';
import { collectHostFacts } from '../host/host-facts';
import { checkIssuedIdentity } from '../identity/issued-identity';
import { channelCredentials, fetchPinnedFleetCa, grpcTarget, parseServerAddress, targetNameOptions } from '../session/server-trust';
import { AgentIdentity, saveIdentity } from '../state/identity';
import { StateDir } from '../state/state-dir';

export class EnrollmentError extends Error {}

export interface EnrollOptions {
  server: string;
  token: string;
  caFingerprint: string;
  stateDir: string;
  timeoutMs?: number;
}

/**
 * Enrolls this host: pins the fleet CA, generates the agent key here (it never leaves the host),
 * trades token + CSR for a client certificate, and stores the identity in the state directory.
 */
export async function enroll(opts: EnrollOptions): Promise<AgentIdentity> {
  const address = parseServerAddress(opts.server);
  const caPem = await fetchPinnedFleetCa(address, opts.caFingerprint, opts.timeoutMs);
  const host = collectHostFacts();
  const { privateKeyPem, csrPem } = await createKeyAndCsr(host.hostname);
  const target = grpcTarget(address);
  const client = new EnrollmentServiceClient(target, channelCredentials(caPem), targetNameOptions(target));
  try {
    const response = await new Promise<EnrollResponse>((resolve, reject) =>
      client.enroll(
        { token: opts.token.trim(), csrPem, host },
        new Metadata(),
        { deadline: Date.now() + (opts.timeoutMs ?? 30_000) },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
    try {
      checkIssuedIdentity(response.certificatePem, privateKeyPem, caPem, response.agentId);
    } catch (err) {
      throw new EnrollmentError((err as Error).message);
    }
    const identity: AgentIdentity = {
      agentId: response.agentId,
      server: grpcTarget(address),
      privateKeyPem,
      certificatePem: response.certificatePem,
      caCertificatesPem: caPem,
    };
    saveIdentity(new StateDir(opts.stateDir), identity);
    return identity;
  } catch (err) {
    const e = err as ServiceError;
    if (typeof e.code === 'number') {
      const what = e.code === grpcStatus.PERMISSION_DENIED || e.code === grpcStatus.UNAUTHENTICATED ? 'enrollment refused' : 'enrollment failed';
      throw new EnrollmentError(`${what}: ${e.details || e.message}`);
    }
    throw err;
  } finally {
    client.close();
  }
}
