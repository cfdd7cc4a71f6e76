// @certfleet/pki: read, describe, request, issue and verify X.509 material. Pure functions.
// (Modules that use @peculiar/x509 load reflect-metadata themselves.)

export * from './discovery';
export * from './authority';
export * from './requests';
export * from './hierarchy';
export * from './renewal';
export * from './issuance';
export * from './revocation';
export * from './revocation-check';
export * from './endpoint-probe';
export * from './ct';
// DER building blocks, as a namespace (names like `sequence` are too generic for the top level).
export * as der from './der';
