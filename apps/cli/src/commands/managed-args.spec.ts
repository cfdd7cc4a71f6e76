import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTarget, parseChallengeSpec, parseTargetSpec, parseValidateFlag, readSecretFile, SpecError } from './managed-args';

describe('parseTargetSpec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-target-'));
  const storePw = join(dir, 'store-pw');
  const keyPw = join(dir, 'key-pw');
  beforeAll(() => {
    writeFileSync(storePw, 'store secret\n');
    writeFileSync(keyPw, 'key, secret\r\nsecond line is ignored\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps each compact kind to the JSON the server takes', () => {
    expect(parseTargetSpec('pem:cert=/etc/app/c.pem,key=/etc/app/k.pem')).toEqual({ kind: 'pem-files', certPath: '/etc/app/c.pem', keyPath: '/etc/app/k.pem' });
    expect(parseTargetSpec('pem:cert=/c.pem,key=/k.pem,chain=/ch.pem')).toEqual({ kind: 'pem-files', certPath: '/c.pem', keyPath: '/k.pem', chainPath: '/ch.pem' });
    expect(parseTargetSpec('fullchain:path=/etc/nginx/f.pem,key=/etc/nginx/k.pem')).toEqual({ kind: 'fullchain-pem', path: '/etc/nginx/f.pem', keyPath: '/etc/nginx/k.pem' });
    expect(parseTargetSpec('combined:path=/etc/haproxy/x.pem')).toEqual({ kind: 'combined-pem', path: '/etc/haproxy/x.pem' });
  });

  it('reads PKCS#12 and keystore passwords from files (first line, without the line ending)', () => {
    expect(parseTargetSpec(`pkcs12:path=/p/x.p12,password-file=${storePw},alias=web`)).toEqual({ kind: 'pkcs12', path: '/p/x.p12', password: 'store secret', alias: 'web' });
    expect(parseTargetSpec(`jks:path=/p/x.jks,password-file=${storePw}`)).toEqual({ kind: 'java-keystore', path: '/p/x.jks', storePassword: 'store secret' });
    expect(parseTargetSpec(`jks:path=/p/x.jks,password-file=${storePw},alias=tomcat,key-password-file=${keyPw}`)).toEqual({
      kind: 'java-keystore',
      path: '/p/x.jks',
      storePassword: 'store secret',
      alias: 'tomcat',
      keyPassword: 'key, secret',
    });
  });

  it('accepts the server kind names, any key order, spaces around pairs and escaped commas', () => {
    expect(parseTargetSpec('pem-files: key=/k.pem , cert=/c.pem')).toEqual({ kind: 'pem-files', certPath: '/c.pem', keyPath: '/k.pem' });
    expect(parseTargetSpec('combined-pem:path=/srv/a\\,b.pem')).toEqual({ kind: 'combined-pem', path: '/srv/a,b.pem' });
    expect(parseTargetSpec(`p12:path=/x.p12,password-file=${storePw}`)).toMatchObject({ kind: 'pkcs12', password: 'store secret' });
    expect(parseTargetSpec(`java-keystore:path=/x.jks,password-file=${storePw}`)).toMatchObject({ kind: 'java-keystore' });
  });

  it('passes the password file path to the reader it is given', () => {
    const seen: string[] = [];
    const spec = parseTargetSpec('pkcs12:path=/x.p12,password-file=/run/secrets/p12', (p) => (seen.push(p), 'from-reader'));
    expect(seen).toEqual(['/run/secrets/p12']);
    expect(spec).toEqual({ kind: 'pkcs12', path: '/x.p12', password: 'from-reader' });
  });

  it.each([
    ['nginx:path=/x.pem', /unknown target kind "nginx".*known: pem, fullchain, combined, pkcs12, jks/],
    ['pem:cert=/c.pem', /a pem target needs key=/],
    ['pem', /a pem target needs cert= and key=/],
    ['fullchain:path=/f.pem', /needs key=/],
    ['pkcs12:path=/x.p12', /needs password-file=/],
    ['pkcs12:path=/x.p12,password=hunter2', /"password" is not one of them/],
    ['pem:cert=/c.pem,key=/k.pem,cert=/d.pem', /"cert" is given twice/],
    ['pem:cert=,key=/k.pem', /"cert" has no value/],
    ['pem:cert,key=/k.pem', /"cert" has no value/],
    ['combined:path=relative/x.pem', /must be absolute and normalised/],
    ['combined:path=/etc/../x.pem', /must be absolute and normalised/],
    ['combined:path=/etc//x.pem', /must be absolute and normalised/],
    ['combined:path=/etc/tls/', /must be absolute and normalised/],
  ])('refuses %s', (spec, message) => {
    expect(() => parseTargetSpec(spec, () => 'pw')).toThrow(SpecError);
    expect(() => parseTargetSpec(spec, () => 'pw')).toThrow(message);
  });

  it('says which password file cannot be used', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => readSecretFile(empty)).toThrow(`password file ${empty} is empty`);
    expect(() => parseTargetSpec(`pkcs12:path=/x.p12,password-file=${join(dir, 'missing')}`)).toThrow(/cannot read password file .*missing: ENOENT/);
  });

  it('describes a target without its passwords', () => {
    expect(describeTarget({ kind: 'pkcs12', path: '/x.p12', password: '********', alias: 'web' })).toBe('pkcs12 /x.p12 (alias web)');
    expect(describeTarget({ kind: 'pem-files', certPath: '/c.pem', keyPath: '/k.pem', chainPath: '/ch.pem' })).toBe('pem-files /c.pem /k.pem /ch.pem');
  });
});

describe('parseValidateFlag', () => {
  it.each([
    ['127.0.0.1:443', { host: '127.0.0.1', port: 443 }],
    ['www.example.com:8443/www.example.com', { host: 'www.example.com', port: 8443, serverName: 'www.example.com' }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['[2001:db8::5]:9443/api.example.com', { host: '2001:db8::5', port: 9443, serverName: 'api.example.com' }],
    [' localhost:1 ', { host: 'localhost', port: 1 }],
  ])('%s', (input, expected) => expect(parseValidateFlag(input)).toEqual(expected));

  it.each([
    ['localhost', /must look like host:port/],
    ['localhost:', /must look like host:port/],
    [':443', /must look like host:port/],
    ['::1:443', /must look like host:port/],
    ['host:443/', /must look like host:port/],
    ['host:https', /must look like host:port/],
    ['host:0', /port must be 1-65535, got 0/],
    ['host:65536', /port must be 1-65535, got 65536/],
  ])('refuses %s', (input, message) => expect(() => parseValidateFlag(input)).toThrow(message));
});

describe('parseChallengeSpec', () => {
  const secrets = (path: string) => (path === '/etc/tsig.key' ? 'c2VjcmV0' : '');
  it.each([
    ['http-01 webroot', 'http-01:webroot=/var/www/html', { type: 'http-01', webroot: '/var/www/html' }],
    ['http-01 standalone on port 80', 'http-01:standalone', { type: 'http-01' }],
    ['http-01 standalone on a port', 'http-01:standalone,port=8080', { type: 'http-01', port: 8080 }],
    [
      'dns-01 RFC 2136, the secret read from its file',
      'dns-01:rfc2136,server=ns1:53,zone=example.com,key-name=acme,secret-file=/etc/tsig.key',
      { type: 'dns-01', provider: 'rfc2136', server: 'ns1:53', zone: 'example.com', tsigKeyName: 'acme', tsigAlgorithm: 'hmac-sha256', tsigSecret: 'c2VjcmV0' },
    ],
    ['dns-01 hook', 'dns-01:hook,command=/usr/local/bin/dns-hook', { type: 'dns-01', provider: 'hook', command: '/usr/local/bin/dns-hook' }],
  ])('%s', (_case, spec, expected) => {
    expect(parseChallengeSpec(spec, secrets)).toEqual(expected);
  });

  it.each([
    ['an unknown type', 'tls-alpn-01:port=443', /unknown challenge type "tls-alpn-01"/],
    ['http-01 without a mode', 'http-01:', /webroot=\/path or standalone/],
    ['rfc2136 without a zone', 'dns-01:rfc2136,server=ns1,key-name=a,secret-file=/etc/tsig.key', /needs zone=/],
  ])('refuses %s', (_case, spec, message) => {
    expect(() => parseChallengeSpec(spec, secrets)).toThrow(message);
  });
});
