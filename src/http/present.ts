import type { IssuedLink } from '../auth/issue-link.js'
import type { SessionGrant } from '../auth/session-grant.js'
import type { VerifyResult } from '../auth/verify-link.js'
import type { AuditEvent, Revocation } from '../store/audit.js'
import type { OutboxMessage } from '../store/outbox.js'
import type { Session } from '../store/sessions.js'
import type { Suppression } from '../store/suppressions.js'
import type { User } from '../store/users.js'
import type { UserRecord } from './schemas.js'

/** The wire shapes: snake_case, ISO timestamps for records; the counters stay inside. */
export function userRecord(user: User): UserRecord {
  return {
    id: user.id,
    email: user.email,
    status: user.status,
    created_at: new Date(user.createdAt).toISOString(),
    last_login_at: iso(user.lastLoginAt),
  }
}

export function grantRecord(grant: SessionGrant) {
  return {
    jwt: grant.jwt,
    expires_at: grant.expiresAt,
    refresh_token: grant.refreshToken,
    refresh_expires_at: grant.refreshExpiresAt,
    session_id: grant.sessionId,
  }
}

/** A session row as operators see it: what device, since when, how it ended. */
export function sessionRecord(session: Session) {
  return {
    id: session.id,
    user_id: session.userId,
    client: session.client,
    created_at: new Date(session.createdAt).toISOString(),
    last_refreshed_at: iso(session.lastRefreshedAt),
    expires_at: new Date(session.expiresAt).toISOString(),
    ended_at: iso(session.endedAt),
    end_reason: session.endReason,
    ip: session.ip,
    user_agent: session.userAgent,
  }
}

export function issuedRecord(issued: IssuedLink) {
  return {
    user_id: issued.userId,
    expires_at: issued.expiresAt,
    delivery: issued.delivery,
    link: issued.link,
  }
}

export function verifiedRecord(result: VerifyResult) {
  return {
    user: userRecord(result.user),
    session: result.session && grantRecord(result.session),
    redirect_to: result.redirectTo,
    scope: result.scope,
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export function outboxRecord(message: OutboxMessage) {
  return {
    id: message.id,
    kind: message.kind,
    user_id: message.userId,
    to: message.recipient,
    status: message.status,
    reason: message.reason,
    attempts: message.attempts,
    last_error: message.lastError,
    created_at: new Date(message.createdAt).toISOString(),
    next_attempt_at: message.status === 'pending' ? iso(message.nextAttemptAt) : null,
    sent_at: iso(message.sentAt),
    delivery: message.delivery,
    delivery_at: iso(message.deliveryAt),
  }
}

export function auditRecord(event: AuditEvent) {
  return {
    id: event.id,
    at: new Date(event.at).toISOString(),
    type: event.type,
    user_id: event.userId,
    session_id: event.sessionId,
    actor: event.actor,
    ip: event.ip,
    user_agent: event.userAgent,
    detail: event.detail,
  }
}

export function revocationRecord(revocation: Revocation) {
  return {
    user_id: revocation.userId,
    rev: revocation.rev,
    ...(revocation.sessionId === null ? {} : { session_id: revocation.sessionId }),
    reason: revocation.reason,
    at: new Date(revocation.at).toISOString(),
  }
}

export function suppressionRecord(entry: Suppression) {
  return {
    address: entry.address,
    email: entry.email,
    reason: entry.reason,
    created_at: new Date(entry.createdAt).toISOString(),
    expires_at: iso(entry.expiresAt),
  }
}
