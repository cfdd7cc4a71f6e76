#!/usr/bin/env node
// Measurement aid for run.sh --lean, not product code: copies dist/ to DEST and rewrites the copy
// the way the recommended source changes would compile, so their effect on idle RSS can be
// measured before anyone edits apps/agent or libs/pki:
//   1. @peculiar/x509 (with reflect-metadata and tsyringe) is loaded on first use, not at start:
//      `require("./x509-runtime")` / `require("@peculiar/x509")` become lazy proxies, and the bare
//      `require("reflect-metadata")` of libs/pki/src/index.js and apps/agent/src/main.js go (the
//      x509 runtime still loads it first, when x509 is first used).
//   2. isServerCertificate (checked on every connection to the server) reads the certificate with
//      node:crypto's X509Certificate instead of @peculiar/x509, so `run` never needs @peculiar.
//   3. apps/agent/src/main.js calls tuneHeapForAgent() before anything else.
// Usage: node lean-dist.js DIST DEST
const fs = require('node:fs');
const path = require('node:path');

const [src, dest] = process.argv.slice(2);
if (!src || !dest) throw new Error('usage: lean-dist.js DIST DEST');
fs.rmSync(dest, { recursive: true, force: true });
fs.cpSync(src, dest, { recursive: true });

const LAZY = `function __leanLazy(id) {
  let mod;
  const load = () => {
    if (!mod) {
      if (id === "@peculiar/x509") require("reflect-metadata");
      mod = require(id);
    }
    return mod;
  };
  return new Proxy({}, {
    get: (_t, k) => (k === "__esModule" ? true : load()[k]),
    has: (_t, k) => k in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_t, k) => ({ ...Reflect.getOwnPropertyDescriptor(load(), k), configurable: true }),
  });
}
`;

function rewrite(rel, edit) {
  const file = path.join(dest, rel);
  const before = fs.readFileSync(file, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`lean-dist: nothing to change in ${rel} (source changed?)`);
  fs.writeFileSync(file, after);
}

const authority = path.join(dest, 'libs/pki/src/authority');
for (const name of fs.readdirSync(authority).filter((n) => n.endsWith('.js') && n !== 'x509-runtime.js')) {
  const text = fs.readFileSync(path.join(authority, name), 'utf8');
  if (text.includes('require("./x509-runtime")')) {
    rewrite(`libs/pki/src/authority/${name}`, (t) => LAZY + t.replace('require("./x509-runtime")', '__leanLazy(require.resolve("./x509-runtime"))'));
  }
}
rewrite('libs/pki/src/requests/csr-builder.js', (t) =>
  LAZY + t.replace('require("reflect-metadata");', '').replace('require("@peculiar/x509")', '__leanLazy("@peculiar/x509")'),
);
rewrite('libs/pki/src/index.js', (t) => t.replace('require("reflect-metadata");', ''));
rewrite('libs/pki/src/authority/server-certificate.js', (t) =>
  t.replace(
    /function isServerCertificate\(certificate\) \{[\s\S]*?\n\}/,
    `function isServerCertificate(certificate) {
    let cert;
    try {
        cert = new (require("node:crypto").X509Certificate)(certificate);
    } catch {
        return false;
    }
    if (cert.ca) return false;
    const uris = (cert.subjectAltName ?? "").split(", ").filter((n)=>n.startsWith("URI:")).map((n)=>n.slice(4));
    return uris.includes(_fleetidentity.SERVER_ROLE_URI) && !uris.some((u)=>u.startsWith(_fleetidentity.AGENT_URI_PREFIX)) && (cert.keyUsage ?? []).includes("1.3.6.1.5.5.7.3.1");
}`,
  ),
);
rewrite('apps/agent/src/main.js', (t) =>
  t.replace('require("reflect-metadata");', 'require("./discovery/heap-tuning").tuneHeapForAgent();'),
);
console.log(`lean copy of ${src} written to ${dest}`);
