// @certfleet/pki: read, describe, issue and verify X.509 material. Pure functions.
import 'reflect-metadata';

export * from './discovery';
export * from './authority';
