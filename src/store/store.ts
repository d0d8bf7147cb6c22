import { ApprovalRepository } from './approval-repository.js';
import { AuditRepository } from './audit-repository.js';
import { openDatabase, type Database } from './database.js';
import { DeploymentRepository } from './deployment-repository.js';
import { EventRepository } from './event-repository.js';
import { NotificationRepository } from './notification-repository.js';
import { ReleaseRepository } from './release-repository.js';
import { RunRepository } from './run-repository.js';
import { SecretRepository } from './secret-repository.js';
import { ServiceRepository } from './service-repository.js';
import { TokenRepository } from './token-repository.js';

/**
 * The repositories over one database connection. A plain grouping, not a god object:
 * each repository is its own class and can be handed out alone. To change several
 * aggregates atomically, wrap the calls in `db.transaction(...)`; the repositories'
 * own transactions then nest as savepoints.
 */
export interface Store {
  db: Database;
  services: ServiceRepository;
  runs: RunRepository;
  events: EventRepository;
  releases: ReleaseRepository;
  deployments: DeploymentRepository;
  tokens: TokenRepository;
  approvals: ApprovalRepository;
  /** Every mutating action, append-only (server/audit.ts writes it). */
  audit: AuditRepository;
  /** Sealed secrets only: values are encrypted and decrypted by src/secrets/secret-store.ts. */
  secrets: SecretRepository;
  /** Notification deliveries, bounded; the notifiers' DeliveryLog. */
  notifications: NotificationRepository;
  close(): void;
}

export function openStore(path: string, now: () => number = Date.now): Store {
  const db = openDatabase(path, { now });
  return {
    db,
    services: new ServiceRepository(db, now),
    runs: new RunRepository(db, now),
    events: new EventRepository(db, now),
    releases: new ReleaseRepository(db, now),
    deployments: new DeploymentRepository(db, now),
    tokens: new TokenRepository(db, now),
    approvals: new ApprovalRepository(db, now),
    audit: new AuditRepository(db, now),
    secrets: new SecretRepository(db, now),
    notifications: new NotificationRepository(db),
    close: () => db.close(),
  };
}
