/** RFC 8555 section 6.7 error types (urn:ietf:params:acme:error:<type>). */
export type AcmeErrorType =
  | 'accountDoesNotExist'
  | 'alreadyReplaced'
  | 'alreadyRevoked'
  | 'badCSR'
  | 'badNonce'
  | 'badPublicKey'
  | 'badRevocationReason'
  | 'badSignatureAlgorithm'
  | 'connection'
  | 'dns'
  | 'externalAccountRequired'
  | 'incorrectResponse'
  | 'malformed'
  | 'orderNotReady'
  | 'rejectedIdentifier'
  | 'serverInternal'
  | 'tls'
  | 'unauthorized'
  | 'unsupportedIdentifier';

export interface ProblemDocument {
  type: string;
  detail: string;
  status: number;
}

const STATUS: Partial<Record<AcmeErrorType, number>> = {
  accountDoesNotExist: 400,
  unauthorized: 403,
  serverInternal: 500,
  orderNotReady: 403,
  alreadyReplaced: 409,
};

/** An ACME request that fails: rendered as application/problem+json, nothing else changes. */
export class AcmeProblem extends Error {
  constructor(
    readonly type: AcmeErrorType,
    detail: string,
    readonly status: number = STATUS[type] ?? 400,
    /** Extra headers, e.g. Location of an existing account on a key-change conflict. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  toDocument(): ProblemDocument {
    return { type: `urn:ietf:params:acme:error:${this.type}`, detail: this.message, status: this.status };
  }
}

/** The problem document stored on a failed challenge or order. */
export function problemOf(type: AcmeErrorType, detail: string): ProblemDocument {
  return new AcmeProblem(type, detail).toDocument();
}
