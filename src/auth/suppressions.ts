import { InvalidRequest, NotFound } from '../errors.js'
import type { Suppression } from '../store/suppressions.js'
import type { AuthDeps } from './deps.js'
import { normaliseEmail } from './email.js'
import { suppressionKeys } from './inbox.js'

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
 * Lifts the entries that cover `email` (the inbox's, any spelling of it, and a bounce's for that
 * exact mailbox), whatever their reason: email flows to it again at once. NotFound when nothing
 * covered it.
 */
export async function liftSuppression(deps: AuthDeps, email: string): Promise<void> {
  let lifted = false
  // The inbox's entry and the exact mailbox's (a bounce), whichever there are.
  for (const address of new Set(suppressionKeys(normaliseEmail(email)))) {
    const entry = await deps.store.activeSuppression(address, deps.clock())
    if (entry && (await deps.store.removeSuppression(address))) lifted = true
  }
  if (!lifted) throw new NotFound('No suppression covers this address.')
}
