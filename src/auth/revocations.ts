import type { RevocationPage } from '../store/audit.js'
import type { AuthDeps } from './deps.js'

/**
 * The revocation feed a backend follows to reject, within seconds, JWTs it verifies locally: every
 * rev change (revoke, disable, delete) and every ended session, in commit order, after `after`
 * (from the oldest kept when absent). The cursor is opaque and lives in the database's own terms
 * (see store/audit.ts), so it holds across instances and restarts; an empty page hands the same
 * cursor back.
 */
export async function readRevocations(
  deps: Pick<AuthDeps, 'store'>,
  query: { after?: string | undefined; limit: number },
): Promise<RevocationPage> {
  // A cursor the store cannot read is refused there (invalid_request): only it knows its shape.
  return deps.store.revocations(query.after, query.limit)
}
