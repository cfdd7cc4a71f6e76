// One place that prepares @peculiar/x509 for Node: it needs reflect-metadata loaded first and a
// WebCrypto implementation. We pass `webcrypto` explicitly on every call instead of relying on the
// library's global provider, so nothing here depends on what other modules registered.
//
// The library (with tsyringe and reflect-metadata, ~7 MB of resident memory) is loaded on first
// use, not on import: the agent imports @certfleet/pki for discovery and needs it only to enroll.
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

let loaded: typeof X509 | undefined;

function load(): typeof X509 {
  if (!loaded) {
    require('reflect-metadata');
    loaded = require('@peculiar/x509') as typeof X509;
  }
  return loaded;
}

/** @peculiar/x509, loaded when a member is first read. */
export const x509: typeof X509 = new Proxy({} as typeof X509, {
  get: (_target, member) => load()[member as keyof typeof X509],
});

// The repo compiles without the DOM lib, so WebCrypto types come from Node's namespace.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type EcdsaParams = webcrypto.EcdsaParams;
export type { X509 };
export { webcrypto };
