// The agent contract (certfleet.agent.v1), generated from proto/ by `npm run proto`.
export {
  AgentMessage,
  ServerMessage,
  Hello,
  Welcome,
  Heartbeat,
  ReportAck,
  ScanRequest,
  RenewIdentityRequest,
  RenewIdentityResponse,
  AgentServiceService,
  AgentServiceServer,
  AgentServiceClient,
} from './generated/certfleet/agent/v1/agent';
export {
  EnrollRequest,
  EnrollResponse,
  RecoverIdentityRequest,
  RecoverIdentityResponse,
  EnrollmentServiceService,
  EnrollmentServiceServer,
  EnrollmentServiceClient,
} from './generated/certfleet/agent/v1/enrollment';
export { HostFacts } from './generated/certfleet/agent/v1/host';
export {
  InventoryItem,
  FileInfo,
  CertificateFinding,
  PairedKey,
  PrivateKeyFinding,
  Problem,
  ScanStats,
  InventoryReport,
} from './generated/certfleet/agent/v1/inventory';
export {
  CertificateJob,
  InstallTarget,
  PemFilesTarget,
  FullchainPemTarget,
  CombinedPemTarget,
  Pkcs12Target,
  JavaKeystoreTarget,
  ReloadCommand,
  TlsValidation,
  JobCsr,
  JobCertificate,
  JobRejected,
  JobOutcome,
  JobResult,
  JobResultAck,
} from './generated/certfleet/agent/v1/jobs';
// ACME HTTP-01 challenges answered by the agent.
export { JobChallenge, JobChallenge_Mode, JobChallengeReady, JobChallengeCleanup } from './generated/certfleet/agent/v1/jobs';
export { Timestamp } from './generated/google/protobuf/timestamp';
