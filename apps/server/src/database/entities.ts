import { Agent } from '../app/agents/agent.entity';
import { ApiToken } from '../app/auth/api-token.entity';
import { EnrollmentToken } from '../app/enrollment/enrollment-token.entity';
import { AuthorityCredential } from '../app/fleet-ca/authority-credential.entity';
import { InventoryItem } from '../app/inventory/inventory-item.entity';

/** Every TypeORM entity of the server, in one list for the DataSource. */
export const ENTITIES = [Agent, ApiToken, EnrollmentToken, AuthorityCredential, InventoryItem];
