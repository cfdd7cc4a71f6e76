import { handleUnaryCall, status } from '@grpc/grpc-js';
import type { EnrollRequest, EnrollResponse } from '@certfleet/proto';
import { EnrollmentRefusedError, EnrollmentService } from '../../../app/enrollment/enrollment.service';
import { grpcError } from './grpc-error';
import { hostFactsToJson } from './host-facts';

/** EnrollmentService.Enroll: no client certificate needed; the one-time token authorises. */
export function enrollHandler(enrollment: EnrollmentService): handleUnaryCall<EnrollRequest, EnrollResponse> {
  return (call, callback) => {
    const { token, csrPem, host } = call.request;
    if (!token) return callback(grpcError(status.UNAUTHENTICATED, 'an enrollment token is required'));
    if (!csrPem) return callback(grpcError(status.INVALID_ARGUMENT, 'a CSR is required'));
    enrollment
      .enroll(token, csrPem, { ...hostFactsToJson(host), hostname: host?.hostname ?? '' })
      .then((r) =>
        callback(null, {
          agentId: r.agentId,
          certificatePem: r.certificatePem,
          caCertificatesPem: r.caCertificatesPem,
          notAfter: r.notAfter,
        }),
      )
      .catch((err: unknown) => {
        if (err instanceof EnrollmentRefusedError) {
          const code = err.message.startsWith('CSR') ? status.INVALID_ARGUMENT : status.PERMISSION_DENIED;
          return callback(grpcError(code, err.message));
        }
        callback(grpcError(status.INTERNAL, 'enrollment failed on the server; see the server log'));
        console.error('enrollment failed', err);
      });
  };
}
