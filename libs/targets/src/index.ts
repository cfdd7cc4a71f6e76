// @certfleet/targets: install targets behind one interface (write atomically, back up, roll back).
export type {
  InstallMaterial,
  TargetSpec,
  TargetKind,
  PemFilesSpec,
  FullchainPemSpec,
  CombinedPemSpec,
  Pkcs12Spec,
  FileWrite,
  InstallTarget,
} from './types';
export { createTarget, installTargets } from './target';
export { installFiles, BACKUP_SUFFIX } from './install-files';
export type { InstallTransaction, InstalledFile, CommitOptions } from './install-files';
export { InvalidMaterialError, InvalidTargetError, InstallFailedError } from './errors';
