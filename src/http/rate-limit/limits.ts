import rateLimit, {
  type FastifyRateLimitStore,
  type FastifyRateLimitStoreCtor,
  normalizeIP,
  type RateLimitOptions,
} from '@fastify/rate-limit'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { LimitName } from '../../auth/observer.js'
import { clientKey } from '../../auth/pseudonym.js'
import type { Rate } from '../../config/index.js'
import { RateLimited } from '../../errors.js'
import type { Counters } from '../../limits/counters.js'
import type { RateVerdict } from '../../limits/recipient-budget.js'
import type { App, RouteDeps } from '../types.js'

export interface RateLimits {
  /**
   * Per client IP address (request.ip, so TRUST_PROXY decides; IPv6 by /64). `budget` names a
   * separate allowance at the same rate (the stylesheet has one).
   */
  clientIp(request: FastifyRequest, budget?: string): Promise<RateVerdict>
  /** The same as an onRequest hook: 429 problem+json with Retry-After past the limit. */
  perClientIp: onRequestAsyncHookHandler
  /** Per API key, by the authenticated principal's name: after requireRole, never before. */
  perApiKey: onRequestAsyncHookHandler
  /** Sign-in emails asked for through the hosted form, per client IP address (as clientIp). */
  formEmails(request: FastifyRequest): Promise<RateVerdict>
}

const NOT_LIMITED: onRequestAsyncHookHandler = async () => undefined

/**
 * The HTTP limits of DESIGN requirement 15, counted in the service's one set of counters
 * (deps.limits, in memory or Redis). The API's are @fastify/rate-limit hooks over a store backed
 * by those counters, each answering past its limit with our RateLimited error, so problem+json
 * with Retry-After (problem.ts) and none of the plugin's headers. The pages count through the
 * same counters directly (see clientIp and formEmails): the plugin's answer would be the API's,
 * not a page.
 */
export async function rateLimits(app: App, deps: RouteDeps): Promise<RateLimits> {
  const { limits } = deps
  const rates = deps.config.rateLimits
  await app.register(rateLimit, {
    global: false,
    store: counterStore(limits),
    addHeaders: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': false,
    },
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
  })

  /**
   * A hook counting `rate` per the key `keyOf` gives; past the limit, `message` as a 429. The
   * plugin marks a request once its first hook has run and skips every later one, so a route
   * takes one of these hooks, never two (a second would count nothing).
   */
  const hook = (
    limit: LimitName,
    rate: Rate | null,
    keyOf: NonNullable<RateLimitOptions['keyGenerator']>,
    message: string,
  ): onRequestAsyncHookHandler => {
    if (rate === null) return NOT_LIMITED
    return app.rateLimit({
      max: rate.max,
      timeWindow: rate.windowSeconds * 1000,
      keyGenerator: keyOf,
      errorResponseBuilder: (_request, context) => {
        deps.observer.rateLimited(limit)
        return new RateLimited(message, Math.max(1, Math.ceil(context.ttl / 1000)))
      },
    }) as onRequestAsyncHookHandler
  }
  /** A direct check's verdict, counted as a hit of `limit` when it refuses. */
  const counted = async (limit: LimitName, verdict: Promise<RateVerdict>) => {
    const result = await verdict
    if (!result.allowed) deps.observer.rateLimited(limit)
    return result
  }

  const clientOf = (request: FastifyRequest) =>
    clientKey(deps.keyring.pseudonymKey, normalizeIP(request.ip))
  // The pages' hook counts the page's and the stylesheet's allowances in one place and answers
  // with a page; the form's budget is counted inside its handler, after the form's CSRF check.
  // Neither is a route's plugin hook, so both count directly, in the same counters.
  const byIp = limits.limiter(rates.ip)
  const byFormIp = limits.limiter(rates.formIp)
  return {
    clientIp: (request, budget = 'ip') => counted('ip', byIp.hit(`${budget}:${clientOf(request)}`)),
    perClientIp: hook(
      'ip',
      rates.ip,
      (request) => `ip:${clientOf(request)}`,
      'Too many requests from this IP address.',
    ),
    // A request without a valid key is answered 401 by requireRole before it gets here, and
    // counts nowhere: API keys are 256-bit random, so guessing one is hopeless whatever the
    // rate, and a 401 costs the service one hash, no more than a 429 would.
    perApiKey: hook(
      'api_key',
      rates.apiKey,
      (request) => {
        const name = request.principal?.name
        if (name === undefined) throw new TypeError('perApiKey runs after requireRole')
        return `key:${name}`
      },
      'Too many requests with this API key.',
    ),
    formEmails: (request) => counted('form_ip', byFormIp.hit(`form:${clientOf(request)}`)),
  }
}

/**
 * Our counters as a store of @fastify/rate-limit. The counters tell the limits apart by the
 * name each key starts with, so every hook of the plugin (every child) shares one store, and a
 * page and a JWKS request from one address count against one allowance.
 */
function counterStore(counters: Counters): FastifyRateLimitStoreCtor {
  return class CounterStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      counters.hit(key, timeWindow).then(
        (hit) => callback(null, { current: hit.count, ttl: hit.ttlMs }),
        (error: Error) => callback(error),
      )
    }

    child(): FastifyRateLimitStore {
      return this
    }
  }
}
