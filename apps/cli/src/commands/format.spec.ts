import { commonName, parseDurationSeconds, table } from './format';

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
