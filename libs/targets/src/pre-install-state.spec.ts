import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import {
  BACKUP_SUFFIX,
  installFiles,
  installTargets,
  planInstall,
  PreInstallState,
  recordPreInstallState,
  restorePreInstallState,
  TargetSpec,
} from './index';
import { makeChain, TestChain, Workdir } from './testing/openssl-kit';

const dir = new Workdir();
let material: TestChain;
let renewed: TestChain;
let n = 0;
let caseDir = '';

beforeAll(() => {
  material = makeChain(dir, 'old');
  renewed = makeChain(dir, 'new', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
});
beforeEach(() => {
  n += 1;
  caseDir = dir.file(`case${n}`);
  mkdirSync(caseDir);
});
afterAll(() => dir.remove());

const at = (name: string) => `${caseDir}/${name}`;
const existing = (name: string, data: string | Buffer, mode: number, owner = { uid: 65534, gid: 65534 }) => {
  writeFileSync(at(name), data);
  chownSync(at(name), owner.uid, owner.gid);
  chmodSync(at(name), mode);
  return at(name);
};
/** Every file in the case directory with its bytes, owner and mode. */
const tree = () =>
  Object.fromEntries(
    readdirSync(caseDir).sort().map((name) => {
      const s = statSync(at(name));
      return [name, { data: readFileSync(at(name)).toString('base64'), mode: s.mode & 0o7777, uid: s.uid, gid: s.gid }];
    }),
  );
/** What the agent does before installing: plan, record, and keep the record as JSON in its journal. */
const journal = async (specs: TargetSpec[], next: TestChain): Promise<PreInstallState[]> =>
  JSON.parse(JSON.stringify(recordPreInstallState((await planInstall(specs, next)).map((write) => write.path))));

describe('restorePreInstallState after a crash (the InstallTransaction is lost)', () => {
  it('puts every replaced file back byte-identical with owner and mode and removes what the install created', async () => {
    const cert = existing('cert.pem', material.certificatePem, 0o644);
    const key = existing('key.pem', material.privateKeyPem, 0o640, { uid: 65534, gid: 0 }); // group-readable: install narrows it to 0600
    existing(`cert.pem${BACKUP_SUFFIX}`, 'an even older certificate\n', 0o644);
    const keystore = existing('server.jks', 'not even a keystore yet', 0o600);
    const specs: TargetSpec[] = [
      { kind: 'pem-files', certPath: cert, keyPath: key, chainPath: at('chain.pem') },
      { kind: 'java-keystore', path: keystore, storePassword: 'changeit' },
    ];
    const before = tree();
    const states = await journal(specs, renewed);
    expect(states.map((s) => [s.path, s.sha256 === null, s.backupSha256 === null])).toEqual([
      [cert, false, false],
      [key, false, true],
      [at('chain.pem'), true, true],
      [keystore, false, true],
    ]);

    await installTargets(specs, renewed); // ...and the agent is SIGKILLed before reload/validation finishes
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(existsSync(at('chain.pem'))).toBe(true);

    const report = await restorePreInstallState(states);
    expect(report.errors).toEqual([]);
    expect(report.restored).toEqual([cert, key, keystore]);
    expect(report.removed.sort()).toEqual([at('chain.pem'), key + BACKUP_SUFFIX, keystore + BACKUP_SUFFIX].sort());
    expect(report.untouched).toEqual([]);

    const after = tree();
    // The backup that existed before is kept; the install had already overwritten it with the
    // version it replaced, so it now holds that (restored) version rather than the even older one.
    expect(after[`cert.pem${BACKUP_SUFFIX}`].data).toBe(Buffer.from(material.certificatePem).toString('base64'));
    delete after[`cert.pem${BACKUP_SUFFIX}`];
    delete before[`cert.pem${BACKUP_SUFFIX}`];
    expect(after).toEqual(before);

    // a restarted agent that crashes again while restoring simply restores again
    expect(await restorePreInstallState(states)).toEqual({ restored: [], removed: [], untouched: [cert, key, at('chain.pem'), keystore], errors: [] });
  });

  it('touches nothing when the crash came before any write', async () => {
    const cert = existing('fullchain.pem', material.certificatePem + material.chainPem, 0o644);
    const specs: TargetSpec[] = [{ kind: 'fullchain-pem', path: cert, keyPath: at('privkey.pem') }];
    const states = await journal(specs, renewed);
    const before = tree();

    expect(await restorePreInstallState(states)).toEqual({ restored: [], removed: [], untouched: [cert, at('privkey.pem')], errors: [] });
    expect(tree()).toEqual(before);
  });

  it('restores only what was written when the crash came midway', async () => {
    const cert = existing('cert.pem', material.certificatePem, 0o644);
    const key = existing('key.pem', material.privateKeyPem, 0o600);
    const states = await journal([{ kind: 'pem-files', certPath: cert, keyPath: key }], renewed);
    const before = tree();
    await installFiles([{ path: cert, data: renewed.certificatePem, secret: false }]); // the key was never reached

    // the backup the install made of cert.pem goes too, as the in-memory rollback would remove it
    expect(await restorePreInstallState(states)).toEqual({ restored: [cert], removed: [cert + BACKUP_SUFFIX], untouched: [key], errors: [] });
    expect(tree()).toEqual(before);
  });

  it('removes a file the install created where nothing existed', async () => {
    const path = at('haproxy.pem');
    const states = await journal([{ kind: 'combined-pem', path }], renewed);
    expect(states).toEqual([{ path, sha256: null, backupSha256: null }]);
    await installTargets([{ kind: 'combined-pem', path }], renewed);

    expect(await restorePreInstallState(states)).toEqual({ restored: [], removed: [path], untouched: [], errors: [] });
    expect(readdirSync(caseDir)).toEqual([]);
  });

  it('puts back a mode the install changed when the content was already the same', async () => {
    const key = existing('key.pem', renewed.privateKeyPem, 0o644);
    const states = recordPreInstallState([key]);
    await installFiles([{ path: key, data: renewed.privateKeyPem, secret: true }]);
    expect(statSync(key).mode & 0o777).toBe(0o600);

    expect(await restorePreInstallState(states)).toMatchObject({ restored: [key], errors: [] });
    expect(statSync(key).mode & 0o777).toBe(0o644);
  });

  it('does not guess: a backup that is not the recorded version is reported and nothing of that path changes', async () => {
    const cert = existing('cert.pem', material.certificatePem, 0o644);
    const chain = existing('chain.pem', material.chainPem, 0o644);
    const states = recordPreInstallState([cert, chain]);
    await installFiles([
      { path: cert, data: renewed.certificatePem, secret: false },
      { path: chain, data: renewed.chainPem, secret: false },
    ]);
    writeFileSync(cert + BACKUP_SUFFIX, 'tampered\n');

    const report = await restorePreInstallState(states);
    expect(report.errors).toEqual([{ path: cert, message: expect.stringContaining(`${cert} holds neither the recorded version`) }]);
    expect(report.restored).toEqual([chain]); // the other paths are still restored
    expect(readFileSync(cert, 'utf8')).toBe(renewed.certificatePem);
    expect(readFileSync(cert + BACKUP_SUFFIX, 'utf8')).toBe('tampered\n');
    expect(readFileSync(chain, 'utf8')).toBe(material.chainPem);
  });

  it('refuses to record a symbolic link, as the install would', async () => {
    writeFileSync(at('real.pem'), 'real\n');
    symlinkSync(at('real.pem'), at('link.pem'));
    expect(() => recordPreInstallState([at('link.pem')])).toThrow(/symbolic link/);
  });
});
