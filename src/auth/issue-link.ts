import { isIP } from 'node:net'
import { toSeconds } from '../clock.js'
import { InvalidRequest, NotFound, UserDisabled } from '../errors.js'
import { buildLink, type LinkPayload } from '../outbox/email-link.js'
import { enqueue } from '../outbox/enqueue.js'
import type { AuditContext } from '../store/audit.js'
import type { User } from '../store/users.js'
import { Flag, Purpose, type TokenContext } from '../tokens/codec.js'
import type { AuthDeps } from './deps.js'
import { normaliseEmail } from './email.js'
import { phantomKey } from './pseudonym.js'
import { countEmailTo } from './recipient-limit.js'
import { checkRedirect } from './redirect.js'

export interface LinkRequest {
  email?: string | undefined
  userId?: string | undefined
  redirectTo?: string | undefined
  ttlSeconds?: number | undefined
  /** A scoped access link (purpose 2): grants the scope, does not sign in. */
  scope?: string | undefined
  oneTime?: boolean | undefined
  deliver: 'email' | 'none'
  createUser: boolean
  /** The end user's IP address; the link then only verifies when presented with it. */
  bindIp?: string | undefined
  /** Requested from the hosted form: one-click sign-in only in the browser that asked. */
  browserBound?: boolean | undefined
  /**
   * The language of the email: a BCP 47 tag, matched against LOCALES (`de-CH` → `de`), else
   * DEFAULT_LOCALE. The hosted pages pass the one they negotiated.
   */
  locale?: string | undefined
  /** Who asks, for the audit trail (a user this creates is recorded as theirs). */
  by: AuditContext
}

export interface IssuedLink {
  userId: string
  /** Seconds since the Unix epoch. */
  expiresAt: number
  delivery: 'queued' | 'none'
  link?: string
}

export async function issueLink(deps: AuthDeps, request: LinkRequest): Promise<IssuedLink> {
  const { config, clock, keyring } = deps
  if ((request.email === undefined) === (request.userId === undefined)) {
    throw new InvalidRequest('Give exactly one of email and user_id.')
  }
  const access = request.scope !== undefined
  const maxTtl = access ? config.accessTtlMax : config.linkTtlMax
  const ttl = request.ttlSeconds ?? Math.min(config.linkTtl, maxTtl)
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > maxTtl) {
    throw new InvalidRequest(`ttl_seconds must be between 1 and ${maxTtl}.`)
  }
  if (request.bindIp !== undefined && isIP(request.bindIp) === 0) {
    throw new InvalidRequest('bind_ip must be an IP address.')
  }
  const context: TokenContext = {
    scope: request.scope,
    redirect:
      request.redirectTo === undefined
        ? undefined
        : checkRedirect(request.redirectTo, config.allowedRedirects),
    ip: request.bindIp,
  }
  // Login links are single-use unless asked otherwise; access links are reusable by default
  // (they open one thing, and a mail scanner's click must not spend them).
  const oneTime = request.oneTime ?? !access
  const fields = {
    purpose: access ? Purpose.Access : Purpose.Login,
    flags: (oneTime ? Flag.OneTime : 0) | (request.browserBound ? Flag.BrowserBound : 0),
    expiresAt: toSeconds(clock()) + ttl,
  }

  if (request.deliver === 'none') {
    const user = await findUser(deps, request)
    if (!user) throw new NotFound('No user has this email address.')
    if (user.status !== 'active') throw new UserDisabled()
    const token = keyring.mint(
      { ...fields, userId: user.id, rev: user.rev, seq: oneTime ? user.seq : 0 },
      context,
    )
    // Recorded by itself: minting changes nothing (links keep no state). Never the link.
    const detail = {
      purpose: access ? 'access' : 'login',
      delivery: 'none',
      one_time: oneTime,
      expires_at: fields.expiresAt,
    }
    await deps.store.recordEvent(
      { type: 'link.issued', userId: user.id, detail },
      request.by,
      clock(),
    )
    deps.observer.linkIssued(access ? 'access' : 'login', 'none')
    return {
      userId: user.id,
      expiresAt: fields.expiresAt,
      delivery: 'none',
      link: buildLink(config.publicUrl, token, context.redirect),
    }
  }

  // By email, every request gets the same answer and the same work, whether the address is a
  // user's, new, unknown or a disabled user's: a lookup or insert-or-read (users, phantoms), one
  // pending outbox row of the same shape, the worker's bell, 202. Whether the row is sent or
  // suppressed is decided by the worker, after the same claim and lookup for every row (see
  // link-email.ts): work done after the answer only for some addresses would show in the
  // timing of the next request (DESIGN security 14).
  //
  // The address's email budget is spent before anything depends on whether it belongs to
  // anyone: known, unknown and disabled addresses count alike and get the same 429. By user_id
  // the address is the user's, so one person has one budget whichever way they are named.
  if (request.email !== undefined) await countEmailTo(deps, normaliseEmail(request.email))
  const user = await findUser(deps, request)
  if (request.userId !== undefined && user) await countEmailTo(deps, user.email)
  const payload: LinkPayload = {
    ...fields,
    rev: user?.rev ?? 0,
    seq: oneTime ? (user?.seq ?? 0) : 0,
    scope: context.scope,
    redirect: context.redirect,
    ip: context.ip,
    ttlSeconds: ttl,
    ...(request.locale !== undefined && { locale: deps.texts.pick(request.locale) }),
  }
  const email = user?.email ?? normaliseEmail(request.email as string)
  // The stand-in id is looked up for every address asked for by email, known or not, so neither
  // the work nor the time it takes depends on whether the address has an account.
  const phantom =
    request.email === undefined
      ? undefined
      : await deps.store.phantomId(phantomKey(keyring.pseudonymKey, email), clock())
  await enqueue(deps, 'email', {
    userId: user?.id ?? null,
    recipient: email,
    payload,
    by: request.by,
  })
  deps.observer.linkIssued(access ? 'access' : 'login', 'queued')
  return {
    // An unknown address gets the id a new user would have got, and the same one every time.
    userId: user?.id ?? (phantom as string),
    expiresAt: fields.expiresAt,
    delivery: 'queued',
  }
}

/** The user the request names; undefined for an unknown email when users are not created. */
async function findUser(deps: AuthDeps, request: LinkRequest): Promise<User | undefined> {
  if (request.userId !== undefined) {
    const user = await deps.store.findById(request.userId)
    if (!user) throw new NotFound('No user has this id.')
    return user
  }
  const email = normaliseEmail(request.email as string)
  if (!request.createUser) return deps.store.findByEmail(email)
  // A user the hosted form creates is pruned if it never signs in (see pruneUnused).
  const origin = request.browserBound ? 'hosted' : 'api'
  return (await deps.store.findOrCreate(email, deps.clock(), origin, request.by)).user
}
