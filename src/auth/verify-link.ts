import { toSeconds } from '../clock.js'
import { InvalidRequest, TokenInvalid, TokenRevoked, TokenUsed } from '../errors.js'
import { Flag, hasFlag, Purpose } from '../tokens/codec.js'
import type { User } from '../users/store.js'
import { assertCurrent, loadTokenUser } from './check-user.js'
import type { AuthDeps } from './deps.js'
import { checkRedirect } from './redirect.js'
import { grantSession, type SessionGrant } from './session-grant.js'

export type VerifyRequest = LinkCheck & (DryRun | Consume)

interface LinkCheck {
  token: string
  scope?: string | undefined
  redirectTo?: string | undefined
  ip?: string | undefined
}

/** Checks the link without using it up or signing in. */
interface DryRun {
  consume: false
}

interface Consume {
  consume: true
  /**
   * Whom a login link's session is for: the API key's name, or `hosted`. Null uses the link up
   * without a session (the hosted code handoff mints its own at the exchange).
   */
  client: string | null
}

export interface VerifyResult {
  user: User
  /** A session for login links that were consumed; null for access links and dry runs. */
  session: SessionGrant | null
  redirectTo: string | null
  scope: string | null
  /** Requested from the hosted form (see DESIGN: browser binding). */
  browserBound: boolean
  login: boolean
}

/**
 * The hot path: decode, one HMAC, one indexed lookup, at most one conditional update, one JWT
 * signature. The key ring rejects forged, altered and expired tokens before the database is asked.
 */
export async function verifyLink(deps: AuthDeps, request: VerifyRequest): Promise<VerifyResult> {
  const { config, keyring, store, clock } = deps
  const redirect = presentedTarget(request.redirectTo, config.allowedRedirects)
  const fields = keyring.open(
    request.token,
    { [Purpose.Login]: config.linkTtlMax, [Purpose.Access]: config.accessTtlMax },
    { scope: request.scope, redirect, ip: request.ip },
    toSeconds(clock()),
  )
  let user = await loadTokenUser(store, fields)
  const login = fields.purpose === Purpose.Login
  const oneTime = hasFlag(fields.flags, Flag.OneTime)

  if (request.consume && (oneTime || login)) {
    // One statement compares and moves the counters, so of any number of concurrent uses exactly
    // one wins. A reusable login link only records the sign-in, still conditional on rev and
    // status so a revoke that lands in between is honoured.
    const updated = oneTime
      ? await store.consume(user.id, { rev: fields.rev, seq: fields.seq }, clock())
      : await store.touchLogin(user.id, fields.rev, clock())
    if (!updated) {
      // Lost a race: read again only to name the reason precisely (this is the failure path).
      assertCurrent(await store.findById(user.id), fields)
      throw oneTime ? new TokenUsed() : new TokenRevoked()
    }
    user = updated as User
  }

  return {
    user,
    session:
      login && request.consume && request.client !== null
        ? await grantSession(deps, user, request.client)
        : null,
    redirectTo: hasFlag(fields.flags, Flag.HasRedirect) ? (redirect ?? null) : null,
    scope: hasFlag(fields.flags, Flag.HasScope) ? (request.scope ?? null) : null,
    browserBound: hasFlag(fields.flags, Flag.BrowserBound),
    login,
  }
}

/**
 * The target a verifier presents, spelled as links bind it (see redirect.ts), so the encoded and
 * the unencoded form of one target both match. A target we would never issue cannot be one the
 * link binds: it fails as token_invalid, here, before anything is read or used up.
 */
function presentedTarget(
  target: string | undefined,
  allowedOrigins: readonly string[],
): string | undefined {
  if (target === undefined) return undefined
  try {
    return checkRedirect(target, allowedOrigins)
  } catch (error) {
    if (error instanceof InvalidRequest) throw new TokenInvalid()
    throw error
  }
}
