import { AcmeCertificate } from '../app/acme-issuer/acme-certificate.entity';
import { AcmeIssuer } from '../app/acme-issuer/acme-issuer.entity';
import { Agent } from '../app/agents/agent.entity';
import { EndpointObservation } from '../app/endpoints/endpoint-observation.entity';
import { EndpointTarget } from '../app/endpoints/endpoint-target.entity';
import { CtFinding } from '../app/ct-monitor/ct-finding.entity';
import { CtLog } from '../app/ct-monitor/ct-log.entity';
import { CtWatchedDomain } from '../app/ct-monitor/ct-watched-domain.entity';
import { Alert } from '../app/alerts/alert.entity';
import { AlertThreshold } from '../app/alerts/alert-threshold.entity';
import { NotificationChannel } from '../app/notifications/notification-channel.entity';
import { NotificationDelivery } from '../app/notifications/notification-delivery.entity';
import { CertificateOwner } from '../app/ownership/certificate-owner.entity';
import { OwnershipRule } from '../app/ownership/ownership-rule.entity';
import { AcmeAccount } from '../app/acme-server/acme-account.entity';
import { AcmeAuthorization } from '../app/acme-server/acme-authorization.entity';
import { AcmeEabKey } from '../app/acme-server/acme-eab-key.entity';
import { AcmeNonce } from '../app/acme-server/acme-nonce.entity';
import { AcmeOrder } from '../app/acme-server/acme-order.entity';
import { AcmeOrderCertificate } from '../app/acme-server/acme-order-certificate.entity';
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
import { CertificatePublicKey } from '../app/policy/certificate-public-key.entity';
import { FleetPolicyRecord } from '../app/policy/fleet-policy.entity';
import { PolicyFindingRecord } from '../app/policy/policy-finding.entity';

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
  AcmeIssuer,
  AcmeCertificate,
  AcmeAccount,
  AcmeEabKey,
  AcmeOrder,
  AcmeOrderCertificate,
  AcmeAuthorization,
  AcmeNonce,
  Alert,
  AlertThreshold,
  NotificationChannel,
  NotificationDelivery,
  CertificateOwner,
  OwnershipRule,
  FleetPolicyRecord,
  PolicyFindingRecord,
  CertificatePublicKey,
  EndpointTarget,
  EndpointObservation,
  CtLog,
  CtWatchedDomain,
  CtFinding,
];
