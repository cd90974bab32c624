import { type AuditStore, SYSTEM } from './audit.js'
import {
  auditContext,
  badCursor,
  checkAuditQuery,
  checkAuditType,
  checkCounter,
  checkDuration,
  checkEmail,
  checkEndReason,
  checkExpected,
  checkKind,
  checkLimit,
  checkNewSession,
  checkOrigin,
  checkRevokeReason,
  checkStatus,
  checkTime,
  checkUsedToken,
  isEmail,
  isFeedCursor,
  isUuid,
} from './checks.js'
import type { DeliveryStore } from './deliveries.js'
import type { Store } from './index.js'
import { DELIVERY_OUTCOMES, type NewOutboxMessage, type OutboxStore } from './outbox.js'
import type { PhantomStore } from './phantoms.js'
import type { SessionStore } from './sessions.js'
import { SUPPRESSION_REASONS, type Suppression, type SuppressionStore } from './suppressions.js'
import type { UserStore } from './users.js'

/** Deletes at most `limit` rows nobody used since `before`; resolves to how many went. */
export interface Prunable {
  pruneUnused(before: number, limit: number, now: number): Promise<number>
}

/**
 * One database's statements, aggregate by aggregate. They run what they are given: every
 * argument has been checked by composeStore first.
 */
export interface StoreParts {
  users: UserStore & Prunable
  sessions: SessionStore
  phantoms: PhantomStore & Prunable
  outbox: OutboxStore
  audit: AuditStore
  suppressions: SuppressionStore
  deliveries: DeliveryStore
  ping(): Promise<void>
  migrate(): Promise<void>
  close(): Promise<void>
}

/**
 * The one place arguments are checked, so both stores answer alike: a time, limit, status or
 * cursor that cannot be right is a TypeError, and an id that cannot be ours finds nothing and
 * changes nothing, without a round trip to the database.
 */
export function composeStore(parts: StoreParts): Store {
  const { users, sessions, phantoms, outbox, audit, suppressions, deliveries } = parts
  return {
    findById: async (id) => (isUuid(id) ? users.findById(id) : undefined),
    findByEmail: async (email) => (isEmail(email) ? users.findByEmail(email) : undefined),
    async findOrCreate(email, now, createdBy = 'api', audit = SYSTEM) {
      checkEmail(email)
      checkTime(now)
      checkOrigin(createdBy)
      return users.findOrCreate(email, now, createdBy, auditContext(audit))
    },
    async list(options) {
      checkLimit(options?.limit)
      return users.list(options)
    },
    async consume(id, expected, now, audit = SYSTEM, token) {
      checkTime(now)
      checkExpected(expected)
      checkUsedToken(token)
      const context = auditContext(audit)
      return isUuid(id) ? users.consume(id, expected, now, context, token) : undefined
    },
    async touchLogin(id, rev, now, audit = SYSTEM, token) {
      checkTime(now)
      checkCounter(rev, 'rev')
      checkUsedToken(token)
      const context = auditContext(audit)
      return isUuid(id) ? users.touchLogin(id, rev, now, context, token) : undefined
    },
    async revoke(id, now, reason = 'revoked', audit = SYSTEM) {
      checkTime(now)
      checkRevokeReason(reason)
      const context = auditContext(audit)
      return isUuid(id) ? users.revoke(id, now, reason, context) : undefined
    },
    async report(id, rev, change, now, audit = SYSTEM) {
      checkTime(now)
      checkCounter(rev, 'rev')
      checkEmail(change?.inbox)
      checkTime(change.pausedUntil, 'pausedUntil')
      if (typeof change.endSessions !== 'boolean')
        throw new TypeError('endSessions must be a boolean')
      const context = auditContext(audit)
      return isUuid(id) ? users.report(id, rev, change, now, context) : undefined
    },
    async setStatus(id, status, now, audit = SYSTEM) {
      checkStatus(status)
      checkTime(now)
      const context = auditContext(audit)
      return isUuid(id) ? users.setStatus(id, status, now, context) : undefined
    },
    async delete(id, now, audit = SYSTEM) {
      checkTime(now)
      const context = auditContext(audit)
      return isUuid(id) && users.delete(id, now, context)
    },

    ...composeSessions(sessions),
    ...composeSuppressions(suppressions),
    ...composeDeliveries(deliveries),
    ...composeAudit(audit),

    async phantomId(key, now) {
      checkTime(now)
      return phantoms.phantomId(key, now)
    },
    async pruneUnused(before, limit, now = before) {
      checkTime(before, 'before')
      checkLimit(limit)
      checkTime(now)
      return {
        users: await users.pruneUnused(before, limit, now),
        phantoms: await phantoms.pruneUnused(before, limit, now),
      }
    },

    async enqueue(message, audit = SYSTEM) {
      checkNewMessage(message)
      return outbox.enqueue(message, auditContext(audit))
    },
    async enqueueAll(messages) {
      for (const message of messages) checkNewMessage(message)
      return messages.length === 0 ? [] : outbox.enqueueAll(messages)
    },
    async claimDue(now, leaseMs, limit, kind) {
      checkTime(now)
      checkDuration(leaseMs, 'leaseMs')
      checkLimit(limit)
      if (kind !== undefined) checkKind(kind)
      return outbox.claimDue(now, leaseMs, limit, kind)
    },
    async markSent(id, now, providerId, audit = SYSTEM) {
      checkTime(now)
      const context = auditContext(audit)
      if (isUuid(id)) await outbox.markSent(id, now, providerId, context)
    },
    async markRetry(id, nextAttemptAt, error) {
      checkTime(nextAttemptAt, 'nextAttemptAt')
      if (isUuid(id)) await outbox.markRetry(id, nextAttemptAt, error)
    },
    async markFailed(id, error, now, audit = SYSTEM) {
      checkTime(now)
      const context = auditContext(audit)
      if (isUuid(id)) await outbox.markFailed(id, error, now, context)
    },
    async markSuppressed(id, reason, now, audit = SYSTEM) {
      checkTime(now)
      const context = auditContext(audit)
      if (isUuid(id)) await outbox.markSuppressed(id, reason, now, context)
    },
    async listOutbox(query) {
      checkLimit(query.limit)
      if (query.kind !== undefined) checkKind(query.kind)
      if (query.before !== undefined && !isUuid(query.before)) {
        throw new TypeError('before must be a message id')
      }
      if (query.userId !== undefined && !isUuid(query.userId)) return []
      return outbox.listOutbox(query)
    },
    countOutbox: async () => outbox.countOutbox(),
    outboxBacklog: async () => outbox.outboxBacklog(),
    async pruneOutbox(createdBefore) {
      checkTime(createdBefore, 'createdBefore')
      return outbox.pruneOutbox(createdBefore)
    },

    ping: async () => parts.ping(),
    migrate: async () => parts.migrate(),
    close: async () => parts.close(),
  }
}

function checkNewMessage(message: NewOutboxMessage): void {
  checkKind(message.kind)
  checkTime(message.now)
  // Unlike a lookup, a row for a user that cannot exist is not nothing: it is a mistake.
  if (message.userId !== null && !isUuid(message.userId)) {
    throw new TypeError('userId must be a user id or null')
  }
}

/** The sessions' checks: a user or session id that cannot be ours finds and changes nothing. */
function composeSessions(sessions: SessionStore): SessionStore {
  return {
    async consumeAndOpen(userId, expected, session, now, audit = SYSTEM, token) {
      checkTime(now)
      checkExpected(expected)
      checkNewSession(session)
      checkUsedToken(token)
      const context = auditContext(audit)
      return isUuid(userId)
        ? sessions.consumeAndOpen(userId, expected, session, now, context, token)
        : undefined
    },
    async touchAndOpen(userId, rev, session, now, audit = SYSTEM, token) {
      checkTime(now)
      checkCounter(rev, 'rev')
      checkNewSession(session)
      checkUsedToken(token)
      const context = auditContext(audit)
      return isUuid(userId)
        ? sessions.touchAndOpen(userId, rev, session, now, context, token)
        : undefined
    },
    findSession: async (id) => (isUuid(id) ? sessions.findSession(id) : undefined),
    async rotate(id, expected, now, audit = SYSTEM) {
      checkTime(now)
      checkCounter(expected.rev, 'rev')
      checkCounter(expected.refreshSeq, 'refreshSeq')
      const context = auditContext(audit)
      return isUuid(id) ? sessions.rotate(id, expected, now, context) : undefined
    },
    async endSession(id, reason, now, audit = SYSTEM) {
      checkEndReason(reason)
      checkTime(now)
      const context = auditContext(audit)
      return isUuid(id) ? sessions.endSession(id, reason, now, context) : undefined
    },
    async endSessions(userId, reason, now, audit = SYSTEM) {
      checkEndReason(reason)
      checkTime(now)
      const context = auditContext(audit)
      return isUuid(userId) ? sessions.endSessions(userId, reason, now, context) : 0
    },
    async listSessions(userId, query) {
      checkTime(query?.since, 'since')
      checkLimit(query.limit)
      return isUuid(userId) ? sessions.listSessions(userId, query) : []
    },
    async pruneSessions(before) {
      checkTime(before, 'before')
      return sessions.pruneSessions(before)
    },
  }
}

function checkSuppression(entry: Suppression): void {
  checkEmail(entry?.address)
  checkEmail(entry.email)
  if (!SUPPRESSION_REASONS.includes(entry.reason)) {
    throw new TypeError(`reason must be one of ${SUPPRESSION_REASONS.join(', ')}`)
  }
  checkTime(entry.createdAt, 'createdAt')
  if (entry.expiresAt !== null) checkTime(entry.expiresAt, 'expiresAt')
}

/** The suppression list's checks: an address as the store keeps them, a reason it knows. */
function composeSuppressions(suppressions: SuppressionStore): SuppressionStore {
  return {
    async suppress(entry) {
      checkSuppression(entry)
      return suppressions.suppress(entry)
    },
    async activeSuppression(address, now) {
      checkTime(now)
      return isEmail(address) ? suppressions.activeSuppression(address, now) : undefined
    },
    async listSuppressions(query) {
      checkTime(query?.now)
      checkLimit(query.limit)
      if (query.after !== undefined && !isEmail(query.after)) {
        throw new TypeError('after must be an address')
      }
      return suppressions.listSuppressions(query)
    },
    removeSuppression: async (address) =>
      isEmail(address) && suppressions.removeSuppression(address),
  }
}

/** The longest provider id or callback id kept: Resend's are UUIDs, Svix's `msg_` and 27. */
const MAX_PROVIDER_ID = 256

const isProviderId = (id: unknown): id is string =>
  typeof id === 'string' && id.length > 0 && id.length <= MAX_PROVIDER_ID

/** The delivery feedback's checks; a suppression it writes is checked as `suppress` checks one. */
function composeDeliveries(deliveries: DeliveryStore): DeliveryStore {
  return {
    findByProviderId: async (providerId) =>
      isProviderId(providerId) ? deliveries.findByProviderId(providerId) : undefined,
    async recordDelivery(report, now, audit = SYSTEM) {
      checkTime(now)
      if (!isProviderId(report?.eventId)) throw new TypeError('eventId must be a callback id')
      if (!isUuid(report.messageId)) throw new TypeError('messageId must be a message id')
      if (!DELIVERY_OUTCOMES.includes(report.outcome)) {
        throw new TypeError(`outcome must be one of ${DELIVERY_OUTCOMES.join(', ')}`)
      }
      if (report.event) checkAuditType(report.event.type)
      if (report.suppression) checkSuppression(report.suppression)
      return deliveries.recordDelivery(report, now, auditContext(audit))
    },
    async pruneProviderEvents(before) {
      checkTime(before, 'before')
      return deliveries.pruneProviderEvents(before)
    },
  }
}

/** The audit trail's checks: an event's text, a listing's filters and cursor, the feed's. */
function composeAudit(audit: AuditStore): AuditStore {
  return {
    async recordEvent(event, context, now) {
      checkAuditType(event.type)
      checkTime(now)
      for (const [name, id] of [
        ['userId', event.userId],
        ['sessionId', event.sessionId],
      ] as const) {
        if (id != null && !isUuid(id)) throw new TypeError(`${name} must be an id or null`)
      }
      return audit.recordEvent(event, auditContext(context), now)
    },
    async listEvents(query) {
      checkAuditQuery(query)
      if (query.userId !== undefined && !isUuid(query.userId)) return []
      return audit.listEvents(query)
    },
    async pruneEvents(before, feedBefore) {
      checkTime(before, 'before')
      checkTime(feedBefore, 'feedBefore')
      return audit.pruneEvents(before, feedBefore)
    },
    async revocations(after, limit) {
      checkLimit(limit)
      // The cursor comes from outside, opaque: one this store cannot have handed out (made up,
      // or another deployment's) is the client's mistake, answered as such.
      if (after !== undefined && !isFeedCursor(after)) throw badCursor()
      return audit.revocations(after, limit)
    },
  }
}
