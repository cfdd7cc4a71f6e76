import { FleetFoundation1795000000000 } from './1795000000000-fleet-foundation';
import { AgentIdentityRenewal1795100000000 } from './1795100000000-agent-identity-renewal';
import { ManagedCertificates1795200000000 } from './1795200000000-managed-certificates';
import { Revocation1795300000000 } from './1795300000000-revocation';
import { RevocationStatus1795400000000 } from './1795400000000-revocation-status';
import { Breakglass1795500000000 } from './1795500000000-breakglass';
import { AcmeServer1795600000000 } from './1795600000000-acme-server';
import { AcmeIssuer1795700000000 } from './1795700000000-acme-issuer';
import { Alerts1795800000000 } from './1795800000000-alerts';
import { Policy1795900000000 } from './1795900000000-policy';
import { Endpoints1796000000000 } from './1796000000000-endpoints';
import { CtMonitor1796100000000 } from './1796100000000-ct-monitor';
import { EndpointProbeAgent1796200000000 } from './1796200000000-endpoint-probe-agent';
import { CtSthRoot1796300000000 } from './1796300000000-ct-sth-root';
import { CertificateInventory1796400000000 } from './1796400000000-certificate-inventory';
import { AcmeSuccession1796500000000 } from './1796500000000-acme-succession';

/** Every migration, oldest first. Generate a new one with `npm run db:schema-diff`. */
export const MIGRATIONS = [FleetFoundation1795000000000, AgentIdentityRenewal1795100000000, ManagedCertificates1795200000000, Revocation1795300000000, RevocationStatus1795400000000, Breakglass1795500000000, AcmeServer1795600000000, AcmeIssuer1795700000000, Alerts1795800000000, Policy1795900000000, Endpoints1796000000000, CtMonitor1796100000000, EndpointProbeAgent1796200000000, CtSthRoot1796300000000, CertificateInventory1796400000000, AcmeSuccession1796500000000];
