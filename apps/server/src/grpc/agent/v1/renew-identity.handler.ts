import { handleUnaryCall, status } from '@grpc/grpc-js';
import type { RenewIdentityRequest, RenewIdentityResponse } from '@certfleet/proto';
import { CsrRejectedError } from '@certfleet/pki';
import { AgentAuthError, AgentsService } from '../../../app/agents/agents.service';
import { grpcError } from './grpc-error';

/** AgentService.RenewIdentity: the caller is the agent its verified client certificate names. */
export function renewIdentityHandler(agents: AgentsService): handleUnaryCall<RenewIdentityRequest, RenewIdentityResponse> {
  return (call, callback) => {
    const der = call.getAuthContext()?.sslPeerCertificate?.raw;
    if (!der) return callback(grpcError(status.UNAUTHENTICATED, "a client certificate issued by this server's fleet CA is required"));
    agents
      .renewIdentity(der, call.request.csrPem)
      .then((r) => callback(null, { certificatePem: r.certificatePem, notAfter: r.notAfter }))
      .catch((err: unknown) => {
        if (err instanceof AgentAuthError) return callback(grpcError(status.PERMISSION_DENIED, err.message));
        if (err instanceof CsrRejectedError) return callback(grpcError(status.INVALID_ARGUMENT, `CSR refused: ${err.message}`));
        console.error('identity renewal failed', err);
        callback(grpcError(status.INTERNAL, 'identity renewal failed on the server; see the server log'));
      });
  };
}
