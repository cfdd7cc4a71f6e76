// Certificate jobs on this host (key, CSR, install, reload, validate, roll back, report). The
// session feeds server messages in and sends what the runner hands to JobOutbound.
export { JobRunner, TOMBSTONE_RETENTION_MS } from './job-runner';
export type { JobOutbound, JobRunnerOptions } from './job-runner';
export { JOB_ID_PATTERN, isValidJobId } from './journal';
export type { JobStage } from './journal';
