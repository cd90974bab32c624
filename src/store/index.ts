import type { EventAnnouncer } from './announce.js'
import type { AuditStore } from './audit.js'
import type { DeliveryStore } from './deliveries.js'
import type { OutboxStore } from './outbox.js'
import type { PhantomStore } from './phantoms.js'
import type { SessionStore } from './sessions.js'
import type { SuppressionStore } from './suppressions.js'
import type { UserStore } from './users.js'

/**
 * Everything the service persists, in one database: users, their sessions, stand-in ids, the
 * email outbox and the provider's feedback on it, the audit trail and the suppression list,
 * and the database's own life cycle. Both implementations (sqlite/, postgres/) are put together
 * by compose.ts, which checks every argument the same way before a statement runs.
 */
export interface Store
  extends UserStore,
    SessionStore,
    PhantomStore,
    OutboxStore,
    AuditStore,
    SuppressionStore,
    DeliveryStore {
  /**
   * Deletes, at most `limit` of each, what requests left behind and nobody used: active users
   * created before `before` who never signed in and have no email pending or queued since
   * `before`, and stand-in ids last asked for before `before`. Disabled users stay: a disable is
   * an operator's decision, and pruning would let the address come back active. A user being
   * sent an email at that moment is never pruned from under it. Each user deleted is recorded
   * (user.deleted, `unused: true`, by the system) at `now`, `before` unless given.
   */
  pruneUnused(
    before: number,
    limit: number,
    now?: number,
  ): Promise<{ users: number; phantoms: number }>
  /**
   * Resolves when the database answers with our schema in place; rejects (Unavailable)
   * otherwise, closed included (readiness).
   */
  ping(): Promise<void>
  /** Applies pending schema migrations; resolves once the schema is current. */
  migrate(): Promise<void>
  /** Idempotent; every later call rejects with Unavailable. */
  close(): Promise<void>
}

/** What either store is opened with besides where its database is. */
export interface StoreOptions {
  /** Told of every event as it is recorded (webhooks); nobody unless given. */
  announcer?: EventAnnouncer | undefined
}
