import { LatchkeyError } from '../errors.js'
import type { AuthDeps } from './deps.js'

export type Introspection =
  | { active: true; sub: string; client_id: string; exp: number; iat: number }
  | { active: false; reason: string }

/**
 * RFC 7662 in spirit: never an error for a bad JWT, an answer that says why it is inactive. A
 * JWT stays valid to anyone checking it locally against the JWKS until it expires; this is the
 * call that also sees revocation (the user's rev moved past the JWT's) and disabled users.
 */
export async function introspect(deps: AuthDeps, jwt: string): Promise<Introspection> {
  let claims: Awaited<ReturnType<AuthDeps['sessions']['verify']>>
  try {
    claims = await deps.sessions.verify(jwt, deps.clock())
  } catch (error) {
    if (error instanceof LatchkeyError) return { active: false, reason: error.code }
    throw error
  }
  // The most useful reason first, as check-user.ts: a disable moves rev too, and "disabled"
  // tells more than "revoked" while it lasts.
  const user = await deps.store.findById(claims.sub)
  if (!user) return { active: false, reason: 'token_revoked' }
  if (user.status !== 'active') return { active: false, reason: 'user_disabled' }
  if (user.rev !== claims.rev) return { active: false, reason: 'token_revoked' }
  return {
    active: true,
    sub: claims.sub,
    client_id: claims.client_id,
    exp: claims.exp,
    iat: claims.iat,
  }
}
