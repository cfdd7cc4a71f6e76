import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, resolveApiSettings } from './api-client';

describe('resolveApiSettings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-settings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers flags, then environment, then the token file a local server wrote', () => {
    writeFileSync(join(dir, 'admin-token'), 'cfa_from_file\n');
    expect(resolveApiSettings({ server: 'http://s:1/', token: 't1' }, {})).toEqual({ baseUrl: 'http://s:1', token: 't1' });
    expect(resolveApiSettings({}, { CERTFLEET_TOKEN: 't2', CERTFLEET_URL: 'http://e:2' })).toEqual({ baseUrl: 'http://e:2', token: 't2' });
    expect(resolveApiSettings({}, { CERTFLEET_DATA_DIR: dir })).toEqual({ baseUrl: 'http://127.0.0.1:8080', token: 'cfa_from_file' });
  });

  it('says clearly when a named token file cannot be read', () => {
    expect(() => resolveApiSettings({ tokenFile: join(dir, 'nope') }, {})).toThrow(CliError);
    expect(() => resolveApiSettings({ tokenFile: join(dir, 'nope') }, {})).toThrow('cannot read the API token file');
  });
});
