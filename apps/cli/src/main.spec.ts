import { main } from './main';

describe('certfleet main', () => {
  it('lists the CA, managed and audit commands in its usage', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['help'])).toBe(0);
    const usage = log.mock.calls.map((c) => String(c[0])).join('\n');
    for (const command of ['ca create-issuing', 'ca import-issuing', 'ca quick-start', 'ca list', 'ca show', 'managed add', 'managed adopt', 'managed list', 'managed show', 'managed renew-now', 'managed remove', 'audit verify']) {
      expect(usage).toContain(`certfleet ${command}`);
    }
    expect(usage).toContain('Passwords are read from files');
    log.mockRestore();
  });

  it.each([
    [['ca', 'create-issuing', '--name', 'x'], '--csr-out FILE is required'],
    [['ca', 'create-issuing', '--name', 'x', '--csr-out', '/tmp/x.csr', '--curve', 'P-521'], '--curve must be P-256 or P-384'],
    [['ca', 'create-issuing', '--name', 'x', '--csr-out', '/no/such/dir/x.csr'], '--csr-out: the directory /no/such/dir does not exist'],
    [['ca', 'import-issuing', 'x', '--chain', '/tmp/c.pem'], '--certificate FILE is required'],
    [['ca', 'quick-start'], '--name is required'],
    [['ca', 'show'], 'the issuing CA (ID or NAME) is required'],
    [['ca', 'retire', 'x'], 'unknown ca command "retire"'],
    [['managed', 'add', '--name', 'x'], '--agent ID|HOSTNAME is required'],
    [['audit', '--since', 'soon'], '--since: "soon"'],
  ])('%j fails with exit code 2 before any server or token is needed', async (argv, message) => {
    const promise = main(['--server', 'http://127.0.0.1:1', '--token-file', '/no/such/token', ...argv]);
    await expect(promise).rejects.toThrow(message);
    await expect(promise).rejects.toMatchObject({ exitCode: 2 });
  });
});
