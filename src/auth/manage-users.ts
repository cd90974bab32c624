import { NotFound } from '../errors.js'
import type { AuditContext } from '../store/audit.js'
import type { User, UserStatus } from '../store/users.js'
import type { AuthDeps } from './deps.js'
import { normaliseEmail } from './email.js'

export async function getUser(deps: AuthDeps, id: string): Promise<User> {
  const user = await deps.store.findById(id)
  if (!user) throw new NotFound('No user has this id.')
  return user
}

/** With an email: that user, if any. Without: the newest users. */
export async function findUsers(
  deps: AuthDeps,
  query: { email?: string | undefined; limit: number },
): Promise<User[]> {
  if (query.email === undefined) return deps.store.list({ limit: query.limit })
  const user = await deps.store.findByEmail(normaliseEmail(query.email))
  return user ? [user] : []
}

/**
 * A disabled user's tokens fail their next check (user_disabled) and their sessions introspect
 * inactive. The store moves rev with the disable, so enabling again brings back nothing issued
 * before it: the person signs in afresh.
 */
export async function setUserStatus(
  deps: AuthDeps,
  id: string,
  status: UserStatus,
  context: AuditContext,
): Promise<User> {
  const user = await deps.store.setStatus(id, status, deps.clock(), context)
  if (!user) throw new NotFound('No user has this id.')
  deps.observer.sessionsEnded('disabled', user.endedSessions)
  return user
}

export async function deleteUser(deps: AuthDeps, id: string, context: AuditContext): Promise<void> {
  if (!(await deps.store.delete(id, deps.clock(), context)))
    throw new NotFound('No user has this id.')
}
