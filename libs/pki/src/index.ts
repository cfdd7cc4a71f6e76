// @certfleet/pki: read, describe, request, issue and verify X.509 material. Pure functions.
// (Modules that use @peculiar/x509 load reflect-metadata themselves.)

export * from './discovery';
export * from './authority';
export * from './requests';
export * from './hierarchy';
export * from './renewal';
export * from './issuance';
