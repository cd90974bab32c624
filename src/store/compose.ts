import {
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
  isEmail,
  isUuid,
} from './checks.js'
import type { Store } from './index.js'
import type { NewOutboxMessage, OutboxStore } from './outbox.js'
import type { PhantomStore } from './phantoms.js'
import type { SessionStore } from './sessions.js'
import type { UserStore } from './users.js'

/** Deletes at most `limit` rows nobody used since `before`; resolves to how many went. */
export interface Prunable {
  pruneUnused(before: number, limit: number): Promise<number>
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
  const { users, sessions, phantoms, outbox } = parts
  return {
    findById: async (id) => (isUuid(id) ? users.findById(id) : undefined),
    findByEmail: async (email) => (isEmail(email) ? users.findByEmail(email) : undefined),
    async findOrCreate(email, now, createdBy = 'api') {
      checkEmail(email)
      checkTime(now)
      checkOrigin(createdBy)
      return users.findOrCreate(email, now, createdBy)
    },
    async list(options) {
      checkLimit(options?.limit)
      return users.list(options)
    },
    async consume(id, expected, now) {
      checkTime(now)
      checkExpected(expected)
      return isUuid(id) ? users.consume(id, expected, now) : undefined
    },
    async touchLogin(id, rev, now) {
      checkTime(now)
      checkCounter(rev, 'rev')
      return isUuid(id) ? users.touchLogin(id, rev, now) : undefined
    },
    async revoke(id, now, reason = 'revoked') {
      checkTime(now)
      checkRevokeReason(reason)
      return isUuid(id) ? users.revoke(id, now, reason) : undefined
    },
    async setStatus(id, status, now) {
      checkStatus(status)
      checkTime(now)
      return isUuid(id) ? users.setStatus(id, status, now) : undefined
    },
    delete: async (id) => isUuid(id) && users.delete(id),

    ...composeSessions(sessions),

    async phantomId(key, now) {
      checkTime(now)
      return phantoms.phantomId(key, now)
    },
    async pruneUnused(before, limit) {
      checkTime(before, 'before')
      checkLimit(limit)
      return {
        users: await users.pruneUnused(before, limit),
        phantoms: await phantoms.pruneUnused(before, limit),
      }
    },

    async enqueue(message) {
      checkNewMessage(message)
      return outbox.enqueue(message)
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
    async markSent(id, now, providerId) {
      checkTime(now)
      if (isUuid(id)) await outbox.markSent(id, now, providerId)
    },
    async markRetry(id, nextAttemptAt, error) {
      checkTime(nextAttemptAt, 'nextAttemptAt')
      if (isUuid(id)) await outbox.markRetry(id, nextAttemptAt, error)
    },
    async markFailed(id, error) {
      if (isUuid(id)) await outbox.markFailed(id, error)
    },
    async markSuppressed(id, reason) {
      if (isUuid(id)) await outbox.markSuppressed(id, reason)
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
    async consumeAndOpen(userId, expected, session, now) {
      checkTime(now)
      checkExpected(expected)
      checkNewSession(session)
      return isUuid(userId) ? sessions.consumeAndOpen(userId, expected, session, now) : undefined
    },
    async touchAndOpen(userId, rev, session, now) {
      checkTime(now)
      checkCounter(rev, 'rev')
      checkNewSession(session)
      return isUuid(userId) ? sessions.touchAndOpen(userId, rev, session, now) : undefined
    },
    findSession: async (id) => (isUuid(id) ? sessions.findSession(id) : undefined),
    async rotate(id, expected, now) {
      checkTime(now)
      checkCounter(expected.rev, 'rev')
      checkCounter(expected.refreshSeq, 'refreshSeq')
      return isUuid(id) ? sessions.rotate(id, expected, now) : undefined
    },
    async endSession(id, reason, now) {
      checkEndReason(reason)
      checkTime(now)
      return isUuid(id) ? sessions.endSession(id, reason, now) : undefined
    },
    async endSessions(userId, reason, now) {
      checkEndReason(reason)
      checkTime(now)
      return isUuid(userId) ? sessions.endSessions(userId, reason, now) : 0
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
