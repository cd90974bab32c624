import { isIP } from 'node:net'
import { toSeconds } from '../clock.js'
import { InvalidRequest, NotFound, UserDisabled } from '../errors.js'
import { linkMessage } from '../mail/templates/link.js'
import { Flag, Purpose, type TokenContext } from '../tokens/codec.js'
import type { User } from '../users/store.js'
import type { AuthDeps } from './deps.js'
import { normaliseEmail } from './email.js'
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
  const user = await findUser(deps, request)
  if (user.status !== 'active') throw new UserDisabled()

  // Login links are single-use unless asked otherwise; access links are reusable by default
  // (they open one thing, and a mail scanner's click must not spend them).
  const oneTime = request.oneTime ?? !access
  const expiresAt = toSeconds(clock()) + ttl
  const token = keyring.mint(
    {
      purpose: access ? Purpose.Access : Purpose.Login,
      flags: oneTime ? Flag.OneTime : 0,
      userId: user.id,
      expiresAt,
      rev: user.rev,
      seq: oneTime ? user.seq : 0,
    },
    context,
  )
  const link = buildLink(config.publicUrl, token, context.redirect)
  if (request.deliver === 'none') return { userId: user.id, expiresAt, delivery: 'none', link }

  await deps.mailer.send(
    linkMessage({ to: user.email, link, appName: config.mail.appName, ttlSeconds: ttl, oneTime }),
  )
  return { userId: user.id, expiresAt, delivery: 'queued' }
}

/** Links are built from PUBLIC_URL alone: never from a Host or X-Forwarded-Host header. */
export function buildLink(publicUrl: string, token: string, next: string | undefined): string {
  const url = `${publicUrl}/login/link?token=${token}`
  return next === undefined ? url : `${url}&next=${encodeURIComponent(next)}`
}

async function findUser(deps: AuthDeps, request: LinkRequest): Promise<User> {
  if ((request.email === undefined) === (request.userId === undefined)) {
    throw new InvalidRequest('Give exactly one of email and user_id.')
  }
  if (request.userId !== undefined) {
    const user = await deps.store.findById(request.userId)
    if (!user) throw new NotFound('No user has this id.')
    return user
  }
  const email = normaliseEmail(request.email as string)
  if (!request.createUser) {
    const user = await deps.store.findByEmail(email)
    if (!user) throw new NotFound('No user has this email address.')
    return user
  }
  return (await deps.store.findOrCreate(email, deps.clock())).user
}
