// Discovery on this host: walk the configured roots, read what is found with @certfleet/pki.
export { scanPaths } from './scan-paths';
export { runScanCommand } from './scan-command';
export { DEFAULT_SCAN_ROOTS, DEFAULT_MAX_FILE_SIZE } from './scan-types';
export type { ScanOptions, ScanProgress, ScanResult, ScanStats } from './scan-types';
export { tuneHeapForAgent } from './heap-tuning';
