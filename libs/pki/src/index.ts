// @certfleet/pki: read, describe, request, issue and verify X.509 material. Pure functions.
import 'reflect-metadata';

export * from './discovery';
export * from './authority';
export * from './requests';
