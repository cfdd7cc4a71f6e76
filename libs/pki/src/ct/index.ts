export { embeddedScts, parseSctList, extensionValue, SCT_LIST_OID } from './sct';
export type { EmbeddedSct } from './sct';
export { ctLogId, knownLogs } from './known-logs';
export type { KnownLog } from './known-logs';
export { parseLogEntry, readSignedTreeHead, treeHeadSignatureInput, verifySignedTreeHead } from './log-entries';
export type { GetEntriesItem, LoggedCertificate, SignedTreeHead } from './log-entries';
export { CtFormatError } from './tls-reader';
