import { InvalidRequest, NotFound } from '../errors.js'
import type { Suppression } from '../store/suppressions.js'
import type { AuthDeps } from './deps.js'
import { normaliseEmail } from './email.js'
import { inboxOf } from './inbox.js'

export interface SuppressionPage {
  suppressions: Suppression[]
  /** Pass as `after` for the next page; absent on the last one. */
  next?: string
}

/** The operator's view of the suppression list: the entries in force now, by inbox. */
export async function listSuppressions(
  deps: AuthDeps,
  query: { after?: string | undefined; limit: number },
): Promise<SuppressionPage> {
  // A cursor is an address this listing gave out; anything the store could not take as one (a
  // NUL, say) is the caller's mistake, not an outage.
  if (query.after !== undefined && (query.after === '' || query.after.includes('\0'))) {
    throw new InvalidRequest('after must be the next of a previous page.')
  }
  const suppressions = await deps.store.listSuppressions({ ...query, now: deps.clock() })
  const last = suppressions.at(-1)
  return suppressions.length === query.limit && last
    ? { suppressions, next: last.address }
    : { suppressions }
}

/**
 * Lifts the entry that covers `email` (any spelling of the inbox: the entry is the inbox's),
 * whatever its reason: email flows to it again at once. NotFound when nothing covered it.
 */
export async function liftSuppression(deps: AuthDeps, email: string): Promise<void> {
  const address = inboxOf(normaliseEmail(email))
  const entry = await deps.store.activeSuppression(address, deps.clock())
  if (!entry || !(await deps.store.removeSuppression(address))) {
    throw new NotFound('No suppression covers this address.')
  }
}
