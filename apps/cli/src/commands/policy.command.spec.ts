import { CliError } from '../api/api-client';
import { policyBody } from './policy.command';

describe('certfleet policy set arguments', () => {
  it('sends a preset or the parsed file', () => {
    expect(policyBody(['--preset', 'public-tls'])).toEqual({ preset: 'public-tls' });
    expect(policyBody(['p.json'], () => '{"name":"p","rules":[]}')).toEqual({ name: 'p', rules: [] });
  });

  it.each([
    [[], 'give a policy FILE or --preset NAME'],
    [['a.json', '--preset', 'baseline'], 'give either one policy FILE or --preset NAME'],
    [['a.json', 'b.json'], 'give either one policy FILE or --preset NAME'],
  ])('%j is a usage error', (args, message) => {
    expect(() => policyBody(args, () => '{}')).toThrow(message);
    try {
      policyBody(args, () => '{}');
    } catch (err) {
      expect((err as CliError).exitCode).toBe(2);
    }
  });

  it('names a file that is missing or not JSON', () => {
    expect(() => policyBody(['/nonexistent/p.json'])).toThrow('cannot read /nonexistent/p.json');
    expect(() => policyBody(['p.json'], () => '{nope')).toThrow('p.json is not JSON');
  });
});
