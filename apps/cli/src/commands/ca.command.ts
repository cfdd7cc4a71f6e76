import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRootCa, decryptWithPassphrase, encryptWithPassphrase, sha256Fingerprint, formatFingerprint, signIntermediate, writeFileAtomic } from '@certfleet/pki';
import { ApiSettings, callApi, CliError, resolveApiSettings } from '../api/api-client';
import { onePositional, parseCommandArgs, usageError } from './cli-args';
import { commonName, shortDate, shortTime, table } from './format';

const USAGE = `usage:
  Offline (no server is contacted; run them on the machine that keeps the root key):
  certfleet ca init-root --cn NAME [--org ORG] [--country CC] [--days 7300] [--curve P-384|P-256] --out DIR
                         (--passphrase-file FILE | CERTFLEET_ROOT_PASSPHRASE)
  certfleet ca sign-intermediate --root-cert FILE --root-key FILE --csr FILE --out FILE [--days 1825]
                         (--passphrase-file FILE | CERTFLEET_ROOT_PASSPHRASE)

  On the server (issuing CAs sign the managed certificates; their keys never leave the server):
  certfleet ca create-issuing --name NAME [--curve P-256|P-384] [--organization O] --csr-out FILE [--json]
  certfleet ca import-issuing ID|NAME --certificate FILE --chain FILE [--json]
                         (--chain: the root certificate, plus any intermediates between it and this CA)
  certfleet ca quick-start --name NAME [--json]       (lab only: root and issuing CA in one step)
  certfleet ca list [--json]
  certfleet ca show ID|NAME [--json] [--csr-out FILE]`;

interface IssuingCaView {
  id: string;
  name: string;
  status: 'pending' | 'active' | 'retired' | 'revoked';
  subject: string | null;
  fingerprintSha256: string | null;
  notAfter: string | null;
  createdAt: string;
  activatedAt: string | null;
  csrPem?: string;
  certificatePem?: string | null;
  chainPem?: string;
  rootPem?: string | null;
  rootKeyPath?: string;
}

function passphrase(file: string | undefined): string {
  const value = file ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : process.env.CERTFLEET_ROOT_PASSPHRASE;
  if (!value) throw new CliError('the root key passphrase is needed: --passphrase-file FILE or CERTFLEET_ROOT_PASSPHRASE', 2);
  return value;
}

function readInput(path: string | undefined, what: string): string {
  if (!path) throw new CliError(`${what} is required\n${USAGE}`, 2);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/**
 * certfleet ca: the offline half of the internal PKI (init-root, sign-intermediate) and the issuing
 * CAs on the server (create-issuing, import-issuing, quick-start, list, show).
 */
export async function caCommand(args: string[], api: () => ApiSettings = () => resolveApiSettings({})): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'init-root':
      return initRoot(rest);
    case 'sign-intermediate':
      return signIntermediateCommand(rest);
    case 'create-issuing':
      return createIssuing(rest, api);
    case 'import-issuing':
      return importIssuing(rest, api);
    case 'quick-start':
      return quickStart(rest, api);
    case 'list':
      return listCas(rest, api);
    case 'show':
      return showCa(rest, api);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw usageError(sub ? `unknown ca command "${sub}"` : 'a ca command is required', USAGE);
  }
}

const caPath = (idOrName: string, suffix = '') => `/api/v1/issuing-cas/${encodeURIComponent(idOrName)}${suffix}`;

function fingerprint(hex: string | null): string {
  return hex ? formatFingerprint(hex) : '-';
}

/** Where the CLI will write a file: refuses early (before the server does anything) when it cannot. */
function checkWritable(path: string, flag: string): string {
  const full = resolve(path);
  let dir;
  try {
    dir = statSync(dirname(full));
  } catch {
    throw usageError(`${flag}: the directory ${dirname(full)} does not exist`, USAGE);
  }
  if (!dir.isDirectory()) throw usageError(`${flag}: ${dirname(full)} is not a directory`, USAGE);
  if (existsSync(full) && statSync(full).isDirectory()) throw usageError(`${flag}: ${full} is a directory; name a file`, USAGE);
  return full;
}

function readPemFile(path: string | undefined, flag: string): string {
  if (!path) throw usageError(`${flag} FILE is required`, USAGE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${flag} ${path}: ${(err as Error).message}`, USAGE);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw usageError(`${flag} ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, USAGE);
  return text;
}

async function createIssuing(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs(
    { args, options: { name: { type: 'string' }, curve: { type: 'string', default: 'P-256' }, organization: { type: 'string' }, 'csr-out': { type: 'string' }, json: { type: 'boolean' } } },
    USAGE,
  );
  if (!values.name) throw usageError('--name is required', USAGE);
  if (!values['csr-out']) throw usageError('--csr-out FILE is required: the CSR the offline root signs is written there', USAGE);
  if (values.curve !== 'P-256' && values.curve !== 'P-384') throw usageError(`--curve must be P-256 or P-384, got "${values.curve}"`, USAGE);
  const csrOut = checkWritable(values['csr-out'], '--csr-out');
  const ca = await callApi<IssuingCaView>(api(), 'POST', '/api/v1/issuing-cas', {
    name: values.name,
    curve: values.curve,
    ...(values.organization ? { organization: values.organization } : {}),
  });
  try {
    writeFileAtomic(csrOut, ca.csrPem ?? '', 0o644);
  } catch (err) {
    throw new CliError(`issuing CA ${ca.id} was created, but the CSR could not be written to ${csrOut}: ${(err as Error).message}
` +
      `fetch it again with: certfleet ca show ${ca.id} --csr-out FILE`);
  }
  if (values.json) {
    console.log(JSON.stringify({ ...ca, csrPath: csrOut }, null, 2));
    return 0;
  }
  console.log(`issuing CA "${ca.name}" created: ${ca.id} (pending; its key stays on the server)`);
  console.log(`CSR: ${csrOut}`);
  console.log(`
next steps:
  1. on the offline machine that holds the root key, sign the CSR:
       certfleet ca sign-intermediate --root-cert root-ca.pem --root-key root-ca.key.pem --csr ${csrOut} --out issuing-ca.pem
  2. import the signed certificate, with the root (and any intermediates) as the chain:
       certfleet ca import-issuing ${ca.id} --certificate issuing-ca.pem --chain root-ca.pem`);
  return 0;
}

async function importIssuing(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    { args, allowPositionals: true, options: { certificate: { type: 'string' }, chain: { type: 'string' }, json: { type: 'boolean' } } },
    USAGE,
  );
  const idOrName = onePositional(positionals, 'the issuing CA (ID or NAME)', USAGE);
  const certificatePem = readPemFile(values.certificate, '--certificate');
  const chainPem = readPemFile(values.chain, '--chain');
  const ca = await callApi<IssuingCaView>(api(), 'POST', caPath(idOrName, '/certificate'), { certificatePem, chainPem });
  if (values.json) {
    console.log(JSON.stringify(ca, null, 2));
    return 0;
  }
  console.log(`issuing CA "${ca.name}" (${ca.id}) is ${ca.status}`);
  console.log(`subject:   ${ca.subject ?? '-'}`);
  console.log(`SHA-256:   ${fingerprint(ca.fingerprintSha256)}`);
  console.log(`not after: ${shortTime(ca.notAfter)}`);
  return 0;
}

async function quickStart(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { name: { type: 'string' }, json: { type: 'boolean' } } }, USAGE);
  if (!values.name) throw usageError('--name is required', USAGE);
  const ca = await callApi<IssuingCaView>(api(), 'POST', '/api/v1/issuing-cas/quick-start', { name: values.name });
  if (values.json) console.log(JSON.stringify(ca, null, 2));
  else {
    console.log(`issuing CA "${ca.name}" (${ca.id}) is ${ca.status}`);
    console.log(`SHA-256:   ${fingerprint(ca.fingerprintSha256)}`);
    console.log(`not after: ${shortTime(ca.notAfter)}`);
    console.log(`lab root CA key written on the server host to: ${ca.rootKeyPath}`);
  }
  console.error(
    'WARNING: this is a lab set-up. The root key sits unencrypted on the server; for real use move it offline ' +
      '(encrypted) and delete it there, or build the root with "certfleet ca init-root" on an offline machine.',
  );
  return 0;
}

async function listCas(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, USAGE);
  const cas = await callApi<IssuingCaView[]>(api(), 'GET', '/api/v1/issuing-cas');
  if (values.json) {
    console.log(JSON.stringify(cas, null, 2));
    return 0;
  }
  console.log(
    table(
      ['ID', 'NAME', 'STATUS', 'SUBJECT CN', 'NOT AFTER', 'SHA-256'],
      cas.map((c) => [c.id, c.name, c.status, c.subject ? commonName(c.subject) : '-', shortDate(c.notAfter), c.fingerprintSha256 ? c.fingerprintSha256.slice(0, 16) : '-']),
    ),
  );
  console.log(`\n${cas.length} issuing CA(s), ${cas.filter((c) => c.status === 'active').length} active`);
  return 0;
}

async function showCa(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    { args, allowPositionals: true, options: { json: { type: 'boolean' }, 'csr-out': { type: 'string' } } },
    USAGE,
  );
  const idOrName = onePositional(positionals, 'the issuing CA (ID or NAME)', USAGE);
  const csrOut = values['csr-out'] ? checkWritable(values['csr-out'], '--csr-out') : undefined;
  const ca = await callApi<IssuingCaView>(api(), 'GET', caPath(idOrName));
  if (csrOut) {
    if (!ca.csrPem) throw new CliError(`issuing CA "${ca.name}" is ${ca.status}: it has no CSR waiting to be signed`);
    writeFileAtomic(csrOut, ca.csrPem, 0o644);
    if (!values.json) console.log(`CSR written to ${csrOut}`);
  }
  if (values.json) {
    console.log(JSON.stringify(ca, null, 2));
    return 0;
  }
  const rows: [string, string][] = [
    ['id', ca.id],
    ['name', ca.name],
    ['status', ca.status],
    ['subject', ca.subject ?? '-'],
    ['SHA-256', fingerprint(ca.fingerprintSha256)],
    ['not after', shortTime(ca.notAfter)],
    ['created', shortTime(ca.createdAt)],
    ['activated', shortTime(ca.activatedAt)],
    ['root', ca.rootPem ? rootSubject(ca.rootPem) : '-'],
  ];
  for (const [k, v] of rows) console.log(`${`${k}:`.padEnd(11)}${v}`);
  if (ca.status === 'pending') {
    console.log(`\nwaiting for its certificate: sign the CSR with the offline root, then "certfleet ca import-issuing ${ca.id} --certificate FILE --chain FILE"`);
    if (!csrOut && ca.csrPem) console.log(`\n${ca.csrPem.trim()}`);
  } else if (ca.certificatePem) console.log(`\n${ca.certificatePem.trim()}`);
  return 0;
}

function rootSubject(pem: string): string {
  try {
    return new X509Certificate(pem).subject.replace(/\n/g, ', ');
  } catch {
    return '(unreadable)';
  }
}

async function initRoot(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      cn: { type: 'string' },
      org: { type: 'string' },
      country: { type: 'string' },
      days: { type: 'string', default: '7300' },
      curve: { type: 'string', default: 'P-384' },
      out: { type: 'string' },
      'passphrase-file': { type: 'string' },
    },
  }, USAGE);
  if (!values.cn || !values.out) throw new CliError(`--cn and --out are required\n${USAGE}`, 2);
  if (values.curve !== 'P-384' && values.curve !== 'P-256') throw new CliError('--curve must be P-384 or P-256', 2);
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1) throw new CliError('--days must be a positive integer', 2);
  const secret = passphrase(values['passphrase-file']);
  const out = resolve(values.out);
  const certPath = join(out, 'root-ca.pem');
  const keyPath = join(out, 'root-ca.key.pem');
  if (existsSync(certPath) || existsSync(keyPath)) throw new CliError(`${out} already holds a root CA; refusing to overwrite it`);
  const root = await createRootCa({ commonName: values.cn, organization: values.org, country: values.country }, { curve: values.curve, validityDays: days });
  let encrypted: string;
  try {
    encrypted = encryptWithPassphrase(root.privateKeyPem, secret);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  mkdirSync(out, { recursive: true, mode: 0o700 });
  writeFileAtomic(keyPath, encrypted, 0o600);
  writeFileAtomic(certPath, root.certificatePem, 0o644);
  console.log(`root CA certificate: ${certPath}`);
  console.log(`root CA key (encrypted with your passphrase; keep it offline): ${keyPath}`);
  console.log(`SHA-256: ${formatFingerprint(sha256Fingerprint(root.certificatePem))}`);
  return 0;
}

async function signIntermediateCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      'root-cert': { type: 'string' },
      'root-key': { type: 'string' },
      csr: { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string', default: '1825' },
      'passphrase-file': { type: 'string' },
    },
  }, USAGE);
  if (!values.out) throw new CliError(`--out is required\n${USAGE}`, 2);
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1) throw new CliError('--days must be a positive integer', 2);
  const root = {
    certificatePem: readInput(values['root-cert'], '--root-cert'),
    privateKeyPem: decryptWithPassphrase(readInput(values['root-key'], '--root-key'), passphrase(values['passphrase-file'])),
  };
  let certificatePem: string;
  try {
    certificatePem = await signIntermediate(root, readInput(values.csr, '--csr'), { validityDays: days });
  } catch (err) {
    throw new CliError(`refusing to sign: ${(err as Error).message}`);
  }
  writeFileAtomic(resolve(values.out), certificatePem, 0o644);
  console.log(`issuing CA certificate: ${resolve(values.out)}`);
  console.log(`SHA-256: ${formatFingerprint(sha256Fingerprint(certificatePem))}`);
  return 0;
}
