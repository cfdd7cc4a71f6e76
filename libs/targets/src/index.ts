// @certfleet/targets: install targets behind one interface (write atomically, back up, roll back).
export type {
  InstallMaterial,
  TargetSpec,
  TargetKind,
  PemFilesSpec,
  FullchainPemSpec,
  CombinedPemSpec,
  Pkcs12Spec,
  JavaKeystoreSpec,
  FileWrite,
  InstallTarget,
} from './types';
export { createTarget, installTargets, planInstall } from './target';
export { installFiles, BACKUP_SUFFIX } from './install-files';
export type { InstallTransaction, InstalledFile, CommitOptions } from './install-files';
export { recordPreInstallState, restorePreInstallState } from './pre-install-state';
export type { PreInstallState, RestoreReport } from './pre-install-state';
export { InvalidMaterialError, InvalidTargetError, InstallFailedError } from './errors';
