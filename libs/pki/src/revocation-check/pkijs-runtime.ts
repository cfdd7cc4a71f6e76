// One place that loads pkijs for the revocation checker. Loaded on first use, not on import (like
// authority/x509-runtime.ts): the agent imports @certfleet/pki and never checks revocation.
//
// pkijs 3.4 is CommonJS and brings its own CommonJS asn1js 3 (the root asn1js 4 is ESM-only and
// Jest on Node 20 cannot load it, see der/der.ts), so this folder never imports asn1js directly.
// The crypto engine is passed explicitly to every pkijs call that needs one, instead of
// pkijs.setEngine(), which would change a process-wide global other code may rely on.
import { webcrypto } from 'node:crypto';
import type * as Pkijs from 'pkijs';

let loaded: typeof Pkijs | undefined;
let engine: Pkijs.CryptoEngine | undefined;

function load(): typeof Pkijs {
  loaded ??= require('pkijs') as typeof Pkijs;
  return loaded;
}

/** pkijs, loaded when a member is first read. */
export const pkijs: typeof Pkijs = new Proxy({} as typeof Pkijs, {
  get: (_target, member) => load()[member as keyof typeof Pkijs],
});

/** A pkijs crypto engine over Node's WebCrypto (used for CertID hashing). */
export function cryptoEngine(): Pkijs.CryptoEngine {
  // The repo compiles without the DOM lib; Node's webcrypto is the object pkijs expects.
  engine ??= new (load().CryptoEngine)({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof Pkijs.CryptoEngine>[0]['crypto'] });
  return engine;
}

export type { Pkijs };
