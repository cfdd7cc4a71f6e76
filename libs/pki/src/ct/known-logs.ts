// A small built-in list of public CT logs, to name the logs embedded SCTs point at. Log id =
// SHA-256 of the log's DER SubjectPublicKeyInfo (RFC 6962 3.2), computed here from the keys.
// Keys and names from Google's CT log list (v3 schema, version 19.5 of 2023-02-08, as vendored in
// ProtonMail/WebClients packages/key-transparency); logs created after that list are not here
// and show as unknown. Configure more with `knownLogs([...extra])`.
import { createHash } from 'node:crypto';

export interface KnownLog {
  name: string;
  operator: string;
  url: string;
  /** Base64 DER SubjectPublicKeyInfo. */
  key: string;
}

const BUILT_IN: readonly KnownLog[] = [
  { name: "Google 'Argon2024'", operator: 'Google', url: 'https://ct.googleapis.com/logs/us1/argon2024/', key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHblsqctplMVc5ramA7vSuNxUQxcomQwGAVAdnWTAWUYr3MgDHQW0LagJ95lB7QT75Ve6JgT2EVLOFGU7L3YrwA==' },
  { name: "Google 'Xenon2024'", operator: 'Google', url: 'https://ct.googleapis.com/logs/eu1/xenon2024/', key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuWDgNB415GUAk0+QCb1a7ETdjA/O7RE+KllGmjG2x5n33O89zY+GwjWlPtwpurvyVOKoDIMIUQbeIW02UI44TQ==' },
  { name: "Google 'Icarus'", operator: 'Google', url: 'https://ct.googleapis.com/icarus/', key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETtK8v7MICve56qTHHDhhBOuV4IlUaESxZryCfk9QbG9co/CqPvTsgPDbCpp6oFtyAHwlDhnvr7JijXRD9Cb2FA==' },
  { name: "Cloudflare 'Nimbus2024'", operator: 'Cloudflare', url: 'https://ct.cloudflare.com/logs/nimbus2024/', key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEd7Gbe4/mizX+OpIpLayKjVGKJfyTttegiyk3cR0zyswz6ii5H+Ksw6ld3Ze+9p6UJd02gdHrXSnDK0TxW8oVSA==' },
  { name: 'DigiCert Yeti2025', operator: 'DigiCert', url: 'https://yeti2025.ct.digicert.com/log/', key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE35UAXhDBAfc34xB00f+yypDtMplfDDn+odETEazRs3OTIMITPEy1elKGhj3jlSR82JGYSDvw8N8h8bCBWlklQw==' },
  { name: 'DigiCert Nessie2025', operator: 'DigiCert', url: 'https://nessie2025.ct.digicert.com/log/', key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8vDwp4uBLgk5O59C2jhEX7TM7Ta72EN/FklXhwR/pQE09+hoP7d4H2BmLWeadYC3U6eF1byrRwZV27XfiKFvOA==' },
];

/** RFC 6962 log id of a key (base64 or DER SubjectPublicKeyInfo), base64. */
export function ctLogId(key: string | Buffer): string {
  return createHash('sha256').update(typeof key === 'string' ? Buffer.from(key, 'base64') : key).digest('base64');
}

/** Log id (base64) → log, for the built-in list and `extra`. */
export function knownLogs(extra: readonly KnownLog[] = []): Map<string, KnownLog> {
  return new Map([...BUILT_IN, ...extra].map((log) => [ctLogId(log.key), log]));
}
