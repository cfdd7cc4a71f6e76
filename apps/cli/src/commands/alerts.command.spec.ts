import { CliError } from '../api/api-client';
import { thresholdDays, untilDate } from './alerts.command';
import { channelBody } from './channels.command';
import { labelPairs } from './owners.command';

describe('alerts command arguments', () => {
  it('reads --until as a duration from now or an ISO date', () => {
    const now = new Date('2026-11-23T10:00:00Z');
    expect(untilDate('7d', now)).toBe('2026-11-30T10:00:00.000Z');
    expect(untilDate('12h', now)).toBe('2026-11-23T22:00:00.000Z');
    expect(untilDate('2026-12-01', now)).toBe('2026-12-01T00:00:00.000Z');
    expect(() => untilDate('next week', now)).toThrow(CliError);
  });

  it('reads --days lists', () => {
    expect(thresholdDays(['30,14', '7'])).toEqual([30, 14, 7]);
    expect(() => thresholdDays(['30,soon'])).toThrow(/whole days/);
    expect(() => thresholdDays([])).toThrow(/whole days/);
  });
});

describe('channels add', () => {
  const files: Record<string, string> = { '/s/hmac': 'k'.repeat(32) + '\n', '/s/pw': 'pw\n', '/s/ca.pem': '-----BEGIN CERTIFICATE-----\n' };
  const read = (p: string) => files[p];

  it('builds each channel type, secrets read from files and trimmed', () => {
    expect(channelBody('webhook', 'ops', { url: 'https://h/x', 'secret-file': '/s/hmac', timeout: '5' }, read)).toEqual({ name: 'ops', type: 'webhook', role: 'all', secret: 'k'.repeat(32), settings: { url: 'https://h/x', timeoutSeconds: 5 } });
    expect(channelBody('smtp', 'mail', { host: 'mx', from: 'a@x', to: ['b@x,c@x'], username: 'u', 'secret-file': '/s/pw', 'ca-file': '/s/ca.pem' }, read)).toMatchObject({
      role: 'all',
      secret: 'pw',
      settings: { host: 'mx', port: 587, tls: 'starttls', to: ['b@x', 'c@x'], mailOwners: false, caPem: files['/s/ca.pem'] },
    });
    expect(channelBody('smtp', 'owners', { host: 'mx', from: 'a@x', 'mail-owners': true }, read)).toMatchObject({ role: 'owner', settings: { mailOwners: true, to: [] } });
    expect(channelBody('command', 'hook', { command: '/usr/local/bin/page', arg: ['--sev', 'high'] }, read)).toMatchObject({ settings: { command: ['/usr/local/bin/page', '--sev', 'high'] } });
  });

  it('refuses what is missing or unknown', () => {
    expect(() => channelBody('webhook', 'x', {}, read)).toThrow(/--url/);
    expect(() => channelBody('slack', 'x', {}, read)).toThrow(/--secret-file/);
    expect(() => channelBody('pager', 'x', {}, read)).toThrow(/unknown channel type/);
    expect(() => channelBody('smtp', 'x', { port: 'ssl' }, read)).toThrow(/--port/);
  });
});

describe('labels', () => {
  it('reads k=v pairs', () => {
    expect(labelPairs(['env=prod', 'empty='], 'u')).toEqual({ env: 'prod', empty: '' });
    expect(() => labelPairs(['=x'], 'u')).toThrow(/k=v/);
  });
});
