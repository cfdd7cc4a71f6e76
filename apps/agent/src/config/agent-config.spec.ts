import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_DEFAULTS, AgentConfigError, loadAgentConfig } from './agent-config';

describe('loadAgentConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the example shipped in installers/', () => {
    const config = loadAgentConfig(join(__dirname, '../../../../installers/agent.example.json'), {});
    // The shipped example turns endpoint probing on; without a setting it is off.
    expect(config).toEqual({ ...AGENT_DEFAULTS, endpointProbeIntervalSeconds: 900 });
    expect(AGENT_DEFAULTS.endpointProbeIntervalSeconds).toBe(0);
  });

  it('uses defaults when the default file is absent, and env overrides', () => {
    const config = loadAgentConfig(undefined, {
      CERTFLEET_AGENT_CONFIG: undefined,
      CERTFLEET_AGENT_STATE_DIR: '/tmp/s',
      CERTFLEET_AGENT_SCAN_ROOTS: '/a:/b',
    });
    expect(config).toMatchObject({ stateDir: '/tmp/s', scanRoots: ['/a', '/b'], maxFileSize: 1024 * 1024 });
  });

  it.each([
    ['a typo in a key', { scanRoot: ['/etc'] }, 'unknown setting(s)'],
    ['a negative size', { maxFileSize: -1 }, 'maxFileSize must be a positive integer'],
    ['roots that are not a list', { scanRoots: '/etc' }, 'scanRoots must be a list'],
  ])('refuses %s', (_name, content, message) => {
    const file = join(dir, `${message.length}.json`);
    writeFileSync(file, JSON.stringify(content));
    expect(() => loadAgentConfig(file, {})).toThrow(AgentConfigError);
    expect(() => loadAgentConfig(file, {})).toThrow(message);
  });

  it('refuses an explicit config file that does not exist or is not JSON', () => {
    expect(() => loadAgentConfig(join(dir, 'missing.json'), {})).toThrow('cannot read agent config');
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadAgentConfig(join(dir, 'bad.json'), {})).toThrow('cannot read agent config');
  });
});
