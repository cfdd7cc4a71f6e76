export { probeEndpoint, TLS_VERSIONS } from './probe';
export type { EndpointProbe, ProbeOptions, ProbeTrust, ServedCertificate, TlsVersion } from './probe';
export type { StapledOcsp } from './stapled-ocsp';
