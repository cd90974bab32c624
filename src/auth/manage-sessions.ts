import { NotFound } from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { Session } from '../store/sessions.js'
import type { AuthDeps } from './deps.js'

/** How long an ended or expired session stays in a user's list (and in the store). */
export const RECENT_SESSIONS_MS = 30 * 24 * 60 * 60 * 1000

/** The user's open sessions and those that ended or expired in the last 30 days, newest first. */
export async function listUserSessions(
  deps: AuthDeps,
  userId: string,
  limit: number,
): Promise<Session[]> {
  if (!(await deps.store.findById(userId))) throw new NotFound('No user has this id.')
  return deps.store.listSessions(userId, { since: deps.clock() - RECENT_SESSIONS_MS, limit })
}

/** An operator ends one session (`admin`); the user's other sessions stay. Idempotent. */
export async function endSessionAsAdmin(
  deps: AuthDeps,
  id: string,
  context: AuditContext,
): Promise<void> {
  if (await deps.store.endSession(id, 'admin', deps.clock(), context)) {
    deps.observer.sessionsEnded('admin', 1)
    return
  }
  if (!(await deps.store.findSession(id))) throw new NotFound('No session has this id.')
}

/**
 * Forgets sessions that ended or expired more than 30 days ago: nothing can use them, and the
 * lists have stopped showing them. Resolves to how many went.
 */
export async function pruneSessions(
  deps: Pick<AuthDeps, 'store' | 'clock'>,
  log: { info(fields: object, message: string): void },
): Promise<number> {
  const sessions = await deps.store.pruneSessions(deps.clock() - RECENT_SESSIONS_MS)
  if (sessions > 0) log.info({ sessions }, 'old sessions deleted')
  return sessions
}
