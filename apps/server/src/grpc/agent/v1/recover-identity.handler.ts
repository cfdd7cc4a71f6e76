import { handleUnaryCall, status } from '@grpc/grpc-js';
import type { RecoverIdentityRequest, RecoverIdentityResponse } from '@certfleet/proto';
import { IdentityRecoveryRefusedError, IdentityRecoveryService } from '../../../app/agents/identity-recovery.service';
import { grpcError } from './grpc-error';

/**
 * EnrollmentService.RecoverIdentity: no client certificate (the agent's has expired, so TLS would
 * refuse it); a signature by the expired certificate's key authorises the call.
 */
export function recoverIdentityHandler(recovery: IdentityRecoveryService): handleUnaryCall<RecoverIdentityRequest, RecoverIdentityResponse> {
  return (call, callback) => {
    recovery
      .recover(call.request)
      .then((r) => callback(null, { certificatePem: r.certificatePem, notAfter: r.notAfter }))
      .catch((err: unknown) => {
        if (err instanceof IdentityRecoveryRefusedError) {
          return callback(grpcError(err.malformed ? status.INVALID_ARGUMENT : status.PERMISSION_DENIED, err.message));
        }
        console.error('identity recovery failed', err);
        callback(grpcError(status.INTERNAL, 'identity recovery failed on the server; see the server log'));
      });
  };
}
