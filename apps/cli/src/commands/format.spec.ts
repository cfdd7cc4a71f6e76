import { commonName, parseDurationSeconds, parseSince, shortTime, table } from './format';

describe('parseDurationSeconds', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
  ])('%s', (input, seconds) => expect(parseDurationSeconds(input)).toBe(seconds));

  it.each(['1', '1w', '-1h', 'h'])('refuses %s', (input) => expect(() => parseDurationSeconds(input)).toThrow('not a duration'));
});

describe('commonName', () => {
  it('takes the CN, honouring escaped commas', () => {
    expect(commonName('CN=Acme\\, Inc. Root, O=Acme, C=US')).toBe('Acme, Inc. Root');
    expect(commonName('O=No CN Here')).toBe('O=No CN Here');
  });
});

describe('table', () => {
  it('pads columns to the widest cell', () => {
    expect(table(['A', 'BB'], [['xxx', 'y']]).split('\n')).toEqual(['A    BB', '---  --', 'xxx  y']);
  });
});

describe('parseSince', () => {
  const now = new Date('2026-06-15T12:00:00.000Z');
  it.each([
    ['30d', '2026-05-16T12:00:00.000Z'],
    ['12h', '2026-06-15T00:00:00.000Z'],
    ['15m', '2026-06-15T11:45:00.000Z'],
    ['90s', '2026-06-15T11:58:30.000Z'],
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01T08:30:00Z', '2026-03-01T08:30:00.000Z'],
    ['2026-03-01T08:30:00.250+02:00', '2026-03-01T06:30:00.250Z'],
  ])('%s', (input, iso) => expect(parseSince(input, now)).toBe(iso));

  it.each(['yesterday', '30', '1w', '2026-13-01', '2026-02-30', '2026-03-01T25:00:00Z', '03/01/2026'])('refuses %s', (input) =>
    expect(() => parseSince(input, now)).toThrow('is neither an ISO 8601 time'),
  );
});

describe('shortTime', () => {
  it('shows an ISO time to the second, or a dash', () => {
    expect(shortTime('2026-03-01T08:30:00.250Z')).toBe('2026-03-01 08:30:00');
    expect(shortTime(null)).toBe('-');
  });
});
