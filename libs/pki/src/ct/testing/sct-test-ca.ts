// Test-only (not exported from index.ts): certificates with embedded SCTs that test logs really
// signed, issued by the real `openssl ca`. Each is issued twice with the same key, serial, dates
// and extensions: first without the SCT list (its TBSCertificate is what the log signs for the
// precertificate, RFC 6962 3.2), then with the SCT list appended, as a CA issues the final one.
import { X509Certificate } from 'node:crypto';
import { EC_P256 } from '../../authority/openssl-test-kit';
import { TestCa } from '../../revocation-check/test-kit';
import { SCT_LIST_OID } from '../sct';
import { encodeSctListExtension, tbsCertificate } from './ct-encoding';

export interface SctTestCertificate {
  certificate: X509Certificate;
  /** The TBSCertificate the logs signed (of the certificate issued without the SCT list). */
  precertTbs: Buffer;
  pemFile: string;
  keyFile: string;
}

const stamp = (at: Date) => at.toISOString().replace(/[-:T]|\.\d+/g, '');

export class SctTestCa {
  readonly ca: TestCa;
  /** The CA's DER SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  private serial = 0x5c70;

  constructor(subject = '/CN=CT Test CA/O=certfleet tests') {
    this.ca = new TestCa(subject);
    this.spki = new X509Certificate(this.ca.der).publicKey.export({ type: 'spki', format: 'der' });
  }

  get pemFile(): string {
    return this.ca.dir.file('ca.pem');
  }

  /** Issues `name` for DNS name `dns`, with the SCTs `scts` makes from the precertificate's TBSCertificate. */
  issue(name: string, dns: string, scts: (precertTbs: Buffer) => Buffer[]): SctTestCertificate {
    const dir = this.ca.dir;
    dir.makeCsr(name, EC_P256);
    const serial = (this.serial++).toString(16);
    const now = Date.now();
    const extensions = [`subjectAltName = DNS:${dns}`, 'basicConstraints = critical,CA:FALSE', 'extendedKeyUsage = serverAuth'];
    const issue = (out: string, extra: string[]): X509Certificate => {
      // The same serial twice: a fresh database each time, so `openssl ca` does not refuse it.
      dir.write('index.txt', '');
      dir.write('serial', `${serial}\n`);
      dir.write(`${out}.ext`, [...extensions, ...extra].join('\n'));
      dir.run('ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${out}.pem`, '-extfile', `${out}.ext`, '-notext', '-subj', `/CN=${dns}`,
        '-startdate', stamp(new Date(now - 86_400_000)), '-enddate', stamp(new Date(now + 30 * 86_400_000)));
      return new X509Certificate(dir.read(`${out}.pem`));
    };
    const precertTbs = tbsCertificate(issue(`${name}-precert`, []).raw);
    const certificate = issue(name, [`${SCT_LIST_OID} = DER:${encodeSctListExtension(scts(precertTbs)).toString('hex')}`]);
    return { certificate, precertTbs, pemFile: dir.file(`${name}.pem`), keyFile: dir.file(`${name}.key`) };
  }

  remove(): void {
    this.ca.dir.remove();
  }
}
