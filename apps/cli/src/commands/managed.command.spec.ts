import { CliError } from '../api/api-client';
import { addBody, deployBody, managedCommand } from './managed.command';

const noServer = () => {
  throw new Error('the server must not be contacted for a usage error');
};

/** The CliError a call throws (fails the test when it does not throw one). */
function usageFailure(run: () => unknown): CliError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a usage error');
}

describe('managed add flags', () => {
  it('map to the request body the server takes', () => {
    const { body, json } = addBody(
      [
        '--name', 'www-prod', '--agent', 'web-01', '--issuer', 'prod issuing',
        '--dns', 'www.example.com', '--dns', 'example.com,api.example.com', '--ip', '10.0.0.5',
        '--key-type', 'ec-p384', '--validity-days', '60', '--usage', 'tls-server', '--usage', 'tls-client', '--cn', 'www.example.com',
        '--target', 'fullchain:path=/etc/nginx/tls/www.pem,key=/etc/nginx/tls/www.key',
        '--target', 'pkcs12:path=/opt/app/www.p12,password-file=/run/pw,alias=www',
        '--reload', 'systemctl reload nginx', '--reload-timeout', '45', '--validate', '127.0.0.1:443/www.example.com', '--renew-before-days', '20', '--json',
      ],
      (path) => `secret from ${path}`,
    );
    expect(json).toBe(true);
    expect(body).toEqual({
      name: 'www-prod',
      agentId: 'web-01',
      issuer: 'prod issuing',
      profile: {
        keyType: 'ec-p384',
        commonName: 'www.example.com',
        dnsNames: ['www.example.com', 'example.com', 'api.example.com'],
        ipAddresses: ['10.0.0.5'],
        validityDays: 60,
        usages: ['tls-server', 'tls-client'],
      },
      targets: [
        { kind: 'fullchain-pem', path: '/etc/nginx/tls/www.pem', keyPath: '/etc/nginx/tls/www.key' },
        { kind: 'pkcs12', path: '/opt/app/www.p12', password: 'secret from /run/pw', alias: 'www' },
      ],
      reloadCommand: 'systemctl reload nginx',
      reloadTimeoutSeconds: 45,
      validation: { host: '127.0.0.1', port: 443, serverName: 'www.example.com' },
      renewBeforeDays: 20,
    });
  });

  it('leave out what was not given, so the server applies its defaults', () => {
    const { body, json } = addBody(['--name', 'n', '--agent', 'a', '--ip', '10.1.2.3', '--target', 'combined:path=/x.pem']);
    expect(json).toBe(false);
    expect(body).toEqual({ name: 'n', agentId: 'a', profile: { dnsNames: [], ipAddresses: ['10.1.2.3'] }, targets: [{ kind: 'combined-pem', path: '/x.pem' }] });
  });

  it('pass key type and validity through for the server to judge against its policy', () => {
    const { body } = addBody(['--name', 'n', '--agent', 'a', '--dns', 'x.example', '--target', 'combined:path=/x.pem', '--key-type', 'rsa-1024', '--validity-days', '5000']);
    expect(body.profile).toMatchObject({ keyType: 'rsa-1024', validityDays: 5000 });
  });

  it.each([
    [['--agent', 'a', '--dns', 'x', '--target', 'combined:path=/x.pem'], '--name is required'],
    [['--name', 'n', '--dns', 'x', '--target', 'combined:path=/x.pem'], '--agent ID|HOSTNAME is required'],
    [['--name', 'n', '--agent', 'a', '--target', 'combined:path=/x.pem'], 'at least one --dns NAME or --ip IP is required'],
    [['--name', 'n', '--agent', 'a', '--dns', 'x'], 'at least one --target SPEC is required'],
    [['--name', 'n', '--agent', 'a', '--dns', 'x', '--target', 'combined:path=x.pem'], 'must be absolute and normalised'],
    [['--name', 'n', '--agent', 'a', '--dns', 'x', '--target', 'combined:path=/x.pem', '--validate', 'localhost'], '--validate must look like host:port'],
    [['--name', 'n', '--agent', 'a', '--dns', 'x', '--target', 'combined:path=/x.pem', '--validity-days', '90d'], '--validity-days must be a whole number, got "90d"'],
    [['--name', 'n', '--agent', 'a', '--dns', 'x', '--target', 'combined:path=/x.pem', '--reload-timeout=-1'], '--reload-timeout must be a whole number, got "-1"'],
    [['--name', 'n', '--agent', 'a', '--dns', 'x', '--target', 'combined:path=/x.pem', '--password', 'p'], "Unknown option '--password'"],
    [['--name'], "Option '--name <value>' argument missing"],
    [['--name', 'n', 'stray'], "Unexpected argument 'stray'"],
  ])('%j is a usage error (exit 2, with the usage)', (args, message) => {
    const err = usageFailure(() => addBody(args as string[]));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(message);
    expect(err.message).toContain('usage:\n  certfleet managed add --name NAME');
    expect(err.message).toContain('Passwords are read from files');
  });
});

describe('managed adopt and subcommands', () => {
  it('send only the deployment settings that were given', () => {
    expect(deployBody({})).toEqual({});
    expect(deployBody({ reload: '', validate: '[::1]:8443', 'renew-before-days': '7' })).toEqual({
      reloadCommand: '',
      validation: { host: '::1', port: 8443 },
      renewBeforeDays: 7,
    });
  });

  it.each([
    [['adopt', '--agent', 'a'], '--fingerprint SHA256 is required'],
    [['adopt', '--fingerprint', 'ab'.repeat(32)], '--agent ID|HOSTNAME is required'],
    [['adopt', '--agent', 'a', '--fingerprint', 'abc'], '--fingerprint must be a SHA-256 fingerprint'],
    [['list', '--status', 'broken'], '--status must be pending, active or failing'],
    [['show'], 'the managed certificate (ID or NAME) is required'],
    [['remove', 'a', 'b'], 'expected a single argument, the managed certificate (ID or NAME); got 2: a b'],
    [['renew'], 'unknown managed command "renew"'],
    [[], 'a managed command is required'],
  ])('%j is refused before contacting the server', async (args, message) => {
    const promise = managedCommand(args as string[], noServer);
    await expect(promise).rejects.toThrow(message);
    await expect(promise).rejects.toMatchObject({ exitCode: 2 });
  });
});
