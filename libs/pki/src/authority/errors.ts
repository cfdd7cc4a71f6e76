// Errors callers are expected to catch and show: each carries a human-readable reason.

/** A certificate signing request was refused; `reason` says why (safe to return to the agent). */
export class CsrRejectedError extends Error {
  constructor(readonly reason: string) {
    super(`CSR rejected: ${reason}`);
    this.name = 'CsrRejectedError';
  }
}

/** An encrypted private key could not be decrypted (wrong key, tampering, unknown format). */
export class KeyDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyDecryptionError';
  }
}

/** A key file is unusable: unsafe permissions, wrong size, not base64. */
export class KeyFileError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`key file ${path}: ${problem}`);
    this.name = 'KeyFileError';
  }
}

/** CA material passed to an issuing function is inconsistent or not a CA. */
export class CaMaterialError extends Error {
  constructor(message: string) {
    super(`fleet CA: ${message}`);
    this.name = 'CaMaterialError';
  }
}
