import { ConfigError, loadServerConfig } from '../../config/server-config';

describe('ACME server settings', () => {
  it('defaults to the RFC ports, the system resolver and no EAB requirement', () => {
    expect(loadServerConfig({}).acme).toEqual({ eabRequired: [], validityDays: 90, http01Port: 80, tlsAlpn01Port: 443, dnsResolver: undefined, hosts: {} });
  });

  it('reads host maps, the resolver and EAB-required CAs', () => {
    const acme = loadServerConfig({ CERTFLEET_ACME_HOSTS: 'A.test=127.0.0.1, b.test=::1', CERTFLEET_ACME_DNS_RESOLVER: '[::1]:5353', CERTFLEET_ACME_EAB_REQUIRED: 'prod, lab', CERTFLEET_ACME_HTTP01_PORT: '5002' }).acme;
    expect(acme).toMatchObject({ hosts: { 'a.test': '127.0.0.1', 'b.test': '::1' }, dnsResolver: { host: '::1', port: 5353 }, eabRequired: ['prod', 'lab'], http01Port: 5002 });
  });

  it.each([
    ['CERTFLEET_ACME_HOSTS', 'a.test=not-an-ip'],
    ['CERTFLEET_ACME_HOSTS', 'a.test'],
    ['CERTFLEET_ACME_DNS_RESOLVER', 'dns.example:53'],
    ['CERTFLEET_ACME_DNS_RESOLVER', '127.0.0.1'],
    ['CERTFLEET_ACME_HTTP01_PORT', '0'],
    ['CERTFLEET_ACME_VALIDITY_DAYS', '1000'],
  ])('refuses %s=%s naming the setting', (name, value) => {
    expect(() => loadServerConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadServerConfig({ [name]: value })).toThrow(name);
  });
});
