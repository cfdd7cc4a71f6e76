import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRootCa, decryptWithPassphrase, encryptWithPassphrase, sha256Fingerprint, formatFingerprint, signIntermediate, writeFileAtomic } from '@certfleet/pki';
import { CliError } from '../api/api-client';

const USAGE = `usage:
  certfleet ca init-root --cn NAME [--org ORG] [--country CC] [--days 7300] [--curve P-384|P-256] --out DIR
                         (--passphrase-file FILE | CERTFLEET_ROOT_PASSPHRASE)
  certfleet ca sign-intermediate --root-cert FILE --root-key FILE --csr FILE --out FILE [--days 1825]
                         (--passphrase-file FILE | CERTFLEET_ROOT_PASSPHRASE)
Both run offline, on any machine: no server is contacted.`;

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

/** certfleet ca init-root | sign-intermediate: the offline half of the internal PKI. */
export async function caCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'init-root') return initRoot(rest);
  if (sub === 'sign-intermediate') return signIntermediateCommand(rest);
  throw new CliError(USAGE, 2);
}

async function initRoot(args: string[]): Promise<number> {
  const { values } = parseArgs({
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
  });
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
  const { values } = parseArgs({
    args,
    options: {
      'root-cert': { type: 'string' },
      'root-key': { type: 'string' },
      csr: { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string', default: '1825' },
      'passphrase-file': { type: 'string' },
    },
  });
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
