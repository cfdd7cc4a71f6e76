// Certificate discovery: read certificates, private keys and keystores from a file's bytes, and
// pair keys with certificates. Pure functions: the agent does the filesystem walking.
export * from './types';
export { readCertificateFile, CERTIFICATE_EXTENSIONS, hasCertificateExtension } from './read-certificate-file';
export { pairKeys } from './pairing';
export { releaseDiscoveryCaches } from './caches';
