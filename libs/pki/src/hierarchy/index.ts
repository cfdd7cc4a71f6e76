// Offline root and issuing CAs.
export {
  createRootCa,
  createIssuingCaRequest,
  signIntermediate,
  encryptWithPassphrase,
  decryptWithPassphrase,
} from './ca-hierarchy';
export type { CaCurve, CaName } from './ca-hierarchy';
