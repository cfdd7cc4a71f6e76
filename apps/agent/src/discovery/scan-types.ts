import type { DiscoveredCertificate, DiscoveredPrivateKey, DiscoveryProblem } from '@certfleet/pki';

export const DEFAULT_SCAN_ROOTS: readonly string[] = [
  '/etc/ssl',
  '/etc/pki',
  '/etc/nginx',
  '/etc/letsencrypt',
  '/etc/haproxy',
  '/usr/local/share/ca-certificates',
];

export const DEFAULT_MAX_FILE_SIZE = 1024 * 1024;

export interface ScanProgress {
  filesSeen: number;
  certificates: number;
  problems: number;
  currentPath: string;
}

export interface ScanOptions {
  passwords: string[];
  /** Files larger than this many bytes are reported as too_large and not read. Default 1 MiB. */
  maxFileSize?: number;
  onProgress?(progress: ScanProgress): void;
  /** Absolute path prefixes never entered or read. */
  exclude?: string[];
  /** For tests: where user and group names come from. */
  passwdFile?: string;
  groupFile?: string;
}

export interface ScanStats {
  filesSeen: number;
  certificates: number;
  privateKeys: number;
  problems: number;
  durationMs: number;
}

export interface ScanResult {
  certificates: DiscoveredCertificate[];
  privateKeys: DiscoveredPrivateKey[];
  problems: DiscoveryProblem[];
  stats: ScanStats;
}
