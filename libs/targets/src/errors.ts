/** The material is unusable (bad PEM, key does not match the certificate, ...). Nothing was written. */
export class InvalidMaterialError extends Error {
  override readonly name = 'InvalidMaterialError';
}

/** A spec that cannot be installed as given (relative path, same path twice, ...). Nothing was written. */
export class InvalidTargetError extends Error {
  override readonly name = 'InvalidTargetError';
}

/**
 * Writing failed. `rolledBack` says whether every file touched so far was put back; if not,
 * `rollbackErrors` says what could not be restored (the backups stay on disk in that case).
 */
export class InstallFailedError extends Error {
  override readonly name = 'InstallFailedError';
  constructor(
    message: string,
    readonly path: string,
    readonly rolledBack: boolean,
    readonly rollbackErrors: readonly Error[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
