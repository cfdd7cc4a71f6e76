import { Inject, Injectable } from '@nestjs/common';
import type { RevocationUrlsForLeaves } from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';

/** Paths of the CA's public endpoints (served without a token by the PKI HTTP handler). */
export const PKI_PATHS = {
  caCertificate: (caId: string) => `/pki/ca/${caId}.crt`,
  crl: (caId: string) => `/pki/crl/${caId}.crl`,
  ocsp: (caId: string) => `/pki/ocsp/${caId}`,
};

/**
 * The public base URL that issued certificates point at (AIA, CRL distribution points). Known from
 * CERTFLEET_PUBLIC_URL or the configured HTTP port; with port 0 (tests) only once the server listens.
 */
@Injectable()
export class PkiUrls {
  private base: string | undefined;
  private readonly listeners: Array<() => void> = [];

  constructor(@Inject(SERVER_CONFIG) config: ServerConfig) {
    if (config.publicUrl) this.base = config.publicUrl;
    else if (config.http.port !== 0) this.base = `http://${displayHost(config.http.host, config.publicNames)}:${config.http.port}`;
  }

  /** Called by the server once listening, when the base was not known before. */
  listening(host: string, port: number, publicNames: string[]): void {
    if (this.base) return;
    this.base = `http://${displayHost(host, publicNames)}:${port}`;
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  get baseUrl(): string | undefined {
    return this.base;
  }

  /** What leaves of `caId` carry; empty until the base URL is known. */
  forLeaves(caId: string): RevocationUrlsForLeaves {
    if (!this.base) return {};
    return { ocsp: this.base + PKI_PATHS.ocsp(caId), caIssuers: this.base + PKI_PATHS.caCertificate(caId), crl: this.base + PKI_PATHS.crl(caId) };
  }
}

// A wildcard listen address is no URL: use the first public name, else loopback.
function displayHost(host: string, publicNames: string[]): string {
  const name = host === '0.0.0.0' || host === '::' || host === '' ? (publicNames[0] ?? '127.0.0.1') : host;
  return name.includes(':') ? `[${name}]` : name;
}
