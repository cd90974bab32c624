import type { SessionGrant } from '../auth/session-grant.js'
import type { User } from '../users/store.js'
import type { UserRecord } from './schemas.js'

/** The wire shapes: snake_case, ISO timestamps for records; the counters stay inside. */
export function userRecord(user: User): UserRecord {
  return {
    id: user.id,
    email: user.email,
    status: user.status,
    created_at: new Date(user.createdAt).toISOString(),
    last_login_at: user.lastLoginAt === null ? null : new Date(user.lastLoginAt).toISOString(),
  }
}

export function sessionRecord(grant: SessionGrant) {
  return {
    jwt: grant.jwt,
    expires_at: grant.expiresAt,
    refresh_token: grant.refreshToken,
    refresh_expires_at: grant.refreshExpiresAt,
  }
}
