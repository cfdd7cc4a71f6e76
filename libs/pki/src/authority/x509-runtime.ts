// One place that prepares @peculiar/x509 for Node: it needs reflect-metadata loaded first and a
// WebCrypto implementation. We pass `webcrypto` explicitly on every call instead of relying on the
// library's global provider, so nothing here depends on what other modules registered.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The repo compiles without the DOM lib, so WebCrypto types come from Node's namespace.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type EcdsaParams = webcrypto.EcdsaParams;
export { webcrypto, x509 };
