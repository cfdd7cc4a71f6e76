import { Metadata, ServiceError, status } from '@grpc/grpc-js';

export function grpcError(code: status, message: string): ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new Metadata() });
}
