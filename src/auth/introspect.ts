import { LatchkeyError } from '../errors.js'
import type { AuthDeps } from './deps.js'

export type Introspection =
  | { active: true; sub: string; sid: string; client_id: string; exp: number; iat: number }
  | { active: false; reason: string }

/**
 * RFC 7662 in spirit: never an error for a bad JWT, an answer that says why it is inactive. A
 * JWT stays valid to anyone checking it locally against the JWKS until it expires; this is the
 * call that also sees its session (one lookup joined with the user): ended, revoked, disabled.
 */
export async function introspect(deps: AuthDeps, jwt: string): Promise<Introspection> {
  let claims: Awaited<ReturnType<AuthDeps['sessions']['verify']>>
  try {
    claims = await deps.sessions.verify(jwt, deps.clock())
  } catch (error) {
    if (error instanceof LatchkeyError) return { active: false, reason: error.code }
    throw error
  }
  const found = await deps.store.findSession(claims.sid)
  // Gone: pruned long after it ended, or deleted with its user.
  if (!found) return { active: false, reason: 'session_ended' }
  const { session, user } = found
  if (session.userId !== claims.sub) return { active: false, reason: 'token_invalid' }
  // The most useful reason first, as check-user.ts: a disable moves rev and ends the session
  // too, and "disabled" tells more than either while it lasts.
  if (user.status !== 'active') return { active: false, reason: 'user_disabled' }
  if (user.rev !== claims.rev) return { active: false, reason: 'token_revoked' }
  if (session.endedAt !== null) return { active: false, reason: 'session_ended' }
  const { sub, sid, client_id, exp, iat } = claims
  return { active: true, sub, sid, client_id, exp, iat }
}
