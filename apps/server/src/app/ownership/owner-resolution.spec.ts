import { globToRegExp } from './glob';
import { compileRules, OwnershipSubject, resolveOwner, RuleInput } from './owner-resolution';
import { parseRule } from './ownership-input';

const rule = (r: Partial<RuleInput> & { name: string }): RuleInput => ({ priority: 100, pathGlob: null, sanPattern: null, agentLabels: null, team: null, emails: [], channels: [], tags: [], ...r });
const subject = (names: string[], ...locations: [string, Record<string, string>][]): OwnershipSubject => ({ names, locations: locations.map(([path, agentLabels]) => ({ path, agentLabels })) });

describe('globToRegExp', () => {
  it.each([
    ['/etc/nginx/*.pem', '/etc/nginx/site.pem', true],
    ['/etc/nginx/*.pem', '/etc/nginx/ssl/site.pem', false],
    ['/etc/nginx/**', '/etc/nginx/ssl/deep/site.pem', true],
    ['/etc/**/*.pem', '/etc/site.pem', true],
    ['/srv/app?/tls.pem', '/srv/app1/tls.pem', true],
    ['/srv/app?/tls.pem', '/srv/app12/tls.pem', false],
    ['/srv/(x)+[y].pem', '/srv/(x)+[y].pem', true],
  ])('path %s vs %s -> %s', (glob, path, expected) => expect(globToRegExp(glob).test(path)).toBe(expected));

  it.each([
    ['*.shop.example.com', 'www.shop.example.com', true],
    ['*.shop.example.com', 'a.b.shop.example.com', true],
    ['*.shop.example.com', 'shop.example.com', false],
    ['*.shop.example.com', 'WWW.SHOP.EXAMPLE.COM', true],
    ['api-?.example.com', 'api-1.example.com', true],
    ['*.example.com', 'evil-example.com', false],
  ])('name %s vs %s -> %s', (glob, name, expected) => expect(globToRegExp(glob, { dns: true }).test(name)).toBe(expected));
});

describe('resolveOwner', () => {
  const rules = compileRules([
    rule({ name: 'nginx-prod', priority: 10, pathGlob: '/etc/nginx/**', agentLabels: { env: 'prod' }, team: 'web', emails: ['web@example.com'], tags: ['prod'] }),
    rule({ name: 'shop', priority: 20, sanPattern: '*.shop.example.com', team: 'shop', emails: ['shop@example.com'], tags: ['pci'] }),
    rule({ name: 'catch-nginx', priority: 50, pathGlob: '/etc/nginx/**', team: 'platform' }),
  ]);

  it('takes the first matching rule by priority; all criteria of a rule must match', () => {
    expect(resolveOwner(subject(['www.shop.example.com'], ['/etc/nginx/ssl/www.pem', { env: 'prod' }]), undefined, rules)).toMatchObject({ team: 'web', tags: ['prod'], source: 'rule:nginx-prod' });
    // Same file on a staging host: the label does not match, the SAN rule does.
    expect(resolveOwner(subject(['www.shop.example.com'], ['/etc/nginx/ssl/www.pem', { env: 'staging' }]), undefined, rules)).toMatchObject({ team: 'shop', source: 'rule:shop' });
    expect(resolveOwner(subject(['intranet.example.com'], ['/etc/nginx/i.pem', {}]), undefined, rules)).toMatchObject({ team: 'platform', source: 'rule:catch-nginx' });
  });

  it('matches a certificate installed in several places when any location matches', () => {
    expect(resolveOwner(subject(['x.example.com'], ['/opt/x.pem', {}], ['/etc/nginx/x.pem', { env: 'prod' }]), undefined, rules).team).toBe('web');
  });

  it('gives no owner when nothing matches', () => {
    expect(resolveOwner(subject(['x.example.com'], ['/opt/x.pem', {}]), undefined, rules)).toEqual({ team: null, emails: [], channels: [], tags: [], source: 'none' });
  });

  it('lets a hand assignment win field by field, and unions the tags', () => {
    const hand = { team: 'dba', emails: ['dba@example.com'], channels: [], tags: ['db'] };
    expect(resolveOwner(subject(['db.shop.example.com'], ['/etc/ssl/db.pem', {}]), hand, rules)).toEqual({ team: 'dba', emails: ['dba@example.com'], channels: [], tags: ['db', 'pci'], source: 'hand+rule:shop' });
    const tagsOnly = { team: null, emails: [], channels: [], tags: ['db'] };
    expect(resolveOwner(subject(['db.shop.example.com'], ['/etc/ssl/db.pem', {}]), tagsOnly, rules)).toMatchObject({ team: 'shop', emails: ['shop@example.com'], tags: ['db', 'pci'] });
    expect(resolveOwner(subject(['x.example.com'], ['/opt/x.pem', {}]), hand, rules)).toMatchObject({ team: 'dba', source: 'hand' });
  });
});

describe('parseRule', () => {
  it.each([
    [{ team: 'x' }, /name is required/],
    [{ name: 'r', team: 'x' }, /at least one of pathGlob/],
    [{ name: 'r', pathGlob: 'etc/*.pem', team: 'x' }, /absolute/],
    [{ name: 'r', pathGlob: '/etc/*.pem' }, /at least one of team/],
    [{ name: 'r', pathGlob: '/etc/*.pem', emails: ['not-an-email'] }, /e-mail/],
    [{ name: 'r', agentLabels: { env: 5 }, team: 'x' }, /label value/],
  ])('refuses %j', (body, message) => expect(() => parseRule(body as Record<string, unknown>)).toThrow(message));

  it('accepts a full rule', () => {
    expect(parseRule({ name: 'r', priority: 5, pathGlob: '/etc/**', sanPattern: '*.x.com', agentLabels: { env: 'prod' }, team: 't', emails: ['a@x.com'], tags: ['p'] })).toMatchObject({ name: 'r', priority: 5, agentLabels: { env: 'prod' }, tags: ['p'] });
  });
});
