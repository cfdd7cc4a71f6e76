import { FleetFoundation1795000000000 } from './1795000000000-fleet-foundation';
import { AgentIdentityRenewal1795100000000 } from './1795100000000-agent-identity-renewal';
import { ManagedCertificates1795200000000 } from './1795200000000-managed-certificates';
import { Revocation1795300000000 } from './1795300000000-revocation';
import { RevocationStatus1795400000000 } from './1795400000000-revocation-status';
import { Breakglass1795500000000 } from './1795500000000-breakglass';

/** Every migration, oldest first. Generate a new one with `npm run db:schema-diff`. */
export const MIGRATIONS = [FleetFoundation1795000000000, AgentIdentityRenewal1795100000000, ManagedCertificates1795200000000, Revocation1795300000000, RevocationStatus1795400000000, Breakglass1795500000000];
