import { Agent } from '../app/agents/agent.entity';
import { ApiToken } from '../app/auth/api-token.entity';
import { EnrollmentToken } from '../app/enrollment/enrollment-token.entity';
import { AuthorityCredential } from '../app/fleet-ca/authority-credential.entity';
import { AuditChainHead, AuditEvent } from '../app/audit/audit-event.entity';
import { BreakglassCampaign } from '../app/breakglass/breakglass-campaign.entity';
import { BreakglassItem } from '../app/breakglass/breakglass-item.entity';
import { CertificateRevocationStatus } from '../app/inventory/certificate-revocation-status.entity';
import { InventoryItem } from '../app/inventory/inventory-item.entity';
import { IssuedCertificate } from '../app/issuing-cas/issued-certificate.entity';
import { IssuingCa } from '../app/issuing-cas/issuing-ca.entity';
import { CertificateJob } from '../app/jobs/certificate-job.entity';
import { ManagedCertificate } from '../app/managed/managed-certificate.entity';
import { IssuingCaCrl } from '../app/revocation/issuing-ca-crl.entity';

/** Every TypeORM entity of the server, in one list for the DataSource. */
export const ENTITIES = [
  Agent,
  ApiToken,
  EnrollmentToken,
  AuthorityCredential,
  InventoryItem,
  CertificateRevocationStatus,
  IssuingCa,
  IssuedCertificate,
  IssuingCaCrl,
  ManagedCertificate,
  CertificateJob,
  AuditEvent,
  AuditChainHead,
  BreakglassCampaign,
  BreakglassItem,
];
