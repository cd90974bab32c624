import { LatchkeyError, NotFound } from '../errors.js'
import type { AuthDeps } from './deps.js'
import { actorOf, HOSTED, signInContext } from './open-session.js'
import { openRefreshToken } from './refresh.js'

/** Which session a backend signs out: the one a refresh token of its own names, or one by id. */
export type EndRequest = { refreshToken: string } | { sessionId: string }

/**
 * A backend's logout: the session ends (`logout`) and its refresh tokens and JWTs stop working
 * (introspection says session_ended). A refresh token must be this key's, as for a refresh; a
 * session id must name one of this key's sessions, so one backend cannot sign out another's
 * users. Ending a session that has ended already changes nothing and is not an error.
 */
export async function endSession(
  deps: AuthDeps,
  request: EndRequest,
  client: string,
): Promise<void> {
  const id =
    'refreshToken' in request
      ? openRefreshToken(deps, request.refreshToken, client).userId
      : request.sessionId
  const found = await deps.store.findSession(id)
  if (!found || found.session.client !== client)
    throw new NotFound('No session of this key has this id.')
  if (await deps.store.endSession(id, 'logout', deps.clock(), { actor: actorOf(client) })) {
    deps.observer.sessionsEnded('logout', 1)
  }
}

/**
 * The hosted pages' sign-out: the session the cookie's JWT names ends (`logout`). A cookie that
 * is missing, forged or expired names no session that could still be used: nothing to do.
 */
export async function endHostedSession(
  deps: AuthDeps,
  jwt: string | undefined,
  device: { ip?: string | undefined; userAgent?: string | undefined } = {},
): Promise<void> {
  if (jwt === undefined) return
  let claims: Awaited<ReturnType<AuthDeps['sessions']['verify']>>
  try {
    claims = await deps.sessions.verify(jwt, deps.clock())
  } catch (error) {
    if (error instanceof LatchkeyError) return
    throw error
  }
  if (claims.client_id !== HOSTED) return
  const context = signInContext({ client: HOSTED, ...device })
  if (await deps.store.endSession(claims.sid, 'logout', deps.clock(), context)) {
    deps.observer.sessionsEnded('logout', 1)
  }
}
