import rateLimit, {
  type FastifyRateLimitStore,
  type FastifyRateLimitStoreCtor,
  normalizeIP,
} from '@fastify/rate-limit'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { clientKey } from '../../auth/pseudonym.js'
import type { Rate } from '../../config/index.js'
import { RateLimited } from '../../errors.js'
import type { RateVerdict, RecipientLimiter } from '../../limits/recipient-budget.js'
import type { App, RouteDeps } from '../types.js'
import { Breaker, type Counters, FallbackCounters, MemoryCounters } from './counters.js'
import { connectRedis, firstConnection, RedisCounters } from './redis-counters.js'

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
  /** Per recipient address, for the use cases that send email. */
  recipients: RecipientLimiter
  /** Sign-in emails asked for through the hosted form, per client IP address (as clientIp). */
  formEmails(request: FastifyRequest): Promise<RateVerdict>
}

export interface RateLimitOptions {
  /** Where the counters live in Redis: `REDIS_KEY_PREFIX` + `rl:` unless given here. */
  redisPrefix?: string | undefined
}

const ALLOWED: RateVerdict = Object.freeze({ allowed: true, retryAfterSeconds: 0 })

/**
 * The limits of DESIGN requirement 15, counted by @fastify/rate-limit in one store: in
 * this process, or in Redis when REDIS_URL is set (falling back to this process while Redis is
 * unavailable). The limits are checked by hooks of our own rather than the plugin's, so the
 * answer past a limit is ours: problem+json for machines, a page for people.
 */
export async function rateLimits(
  app: App,
  deps: RouteDeps,
  options: RateLimitOptions = {},
): Promise<RateLimits> {
  const { config, clock } = deps
  const limits = config.rateLimits
  let open: () => Counters = () => new MemoryCounters(clock)
  if (config.redisUrl !== undefined && Object.values(limits).some((rate) => rate !== null)) {
    const breaker = new Breaker(clock, app.log)
    const client = connectRedis(config.redisUrl, breaker)
    const shared = new RedisCounters(client, options.redisPrefix ?? `${config.redisKeyPrefix}rl:`)
    open = () => new FallbackCounters(shared, new MemoryCounters(clock), breaker)
    // Nothing is in flight by now: Fastify closes once the last request has been answered.
    app.addHook('onClose', async () => client.disconnect())
    await firstConnection(client, 2_000)
  }
  await app.register(rateLimit, { global: false, store: counterStore(open) })

  /** A check of one limit for a key; everything allowed when the limit is off. */
  const limiter = (rate: Rate | null) => {
    if (rate === null) return async (_key: string): Promise<RateVerdict> => ALLOWED
    const check = app.createRateLimit({
      max: rate.max,
      timeWindow: rate.windowSeconds * 1000,
      keyGenerator: (request) => (request as unknown as Keyed).limitKey,
    })
    return async (key: string): Promise<RateVerdict> => {
      // The plugin reads routeOptions (for a route's groupId) and, through our keyGenerator,
      // the key: this is the whole request it needs, whichever request or use case is counted.
      const result = await check({ routeOptions: {}, limitKey: key } as unknown as FastifyRequest)
      if (result.isAllowed || !result.isExceeded) return ALLOWED
      return { allowed: false, retryAfterSeconds: Math.max(1, result.ttlInSeconds) }
    }
  }
  const byIp = limiter(limits.ip)
  const byApiKey = limiter(limits.apiKey)
  const byRecipient = limiter(limits.recipient)
  const byFormIp = limiter(limits.formIp)

  const clientOf = (request: FastifyRequest) =>
    clientKey(deps.keyring.pseudonymKey, normalizeIP(request.ip))
  const clientIp = (request: FastifyRequest, budget = 'ip') =>
    byIp(`${budget}:${clientOf(request)}`)
  return {
    clientIp,
    perClientIp: async (request) => {
      const verdict = await clientIp(request)
      if (!verdict.allowed) {
        throw new RateLimited('Too many requests from this IP address.', verdict.retryAfterSeconds)
      }
    },
    // A request without a valid key is answered 401 by requireRole before it gets here, and
    // counts nowhere: API keys are 256-bit random, so guessing one is hopeless whatever the
    // rate, and a 401 costs the service one hash, no more than a 429 would.
    perApiKey: async (request) => {
      const name = request.principal?.name
      if (name === undefined) throw new TypeError('perApiKey runs after requireRole')
      const verdict = await byApiKey(`key:${name}`)
      if (!verdict.allowed) {
        throw new RateLimited('Too many requests with this API key.', verdict.retryAfterSeconds)
      }
    },
    recipients: { hit: (recipientKey) => byRecipient(`to:${recipientKey}`) },
    formEmails: (request) => byFormIp(`form:${clientOf(request)}`),
  }
}

interface Keyed {
  limitKey: string
}

/**
 * Our counters as a store of @fastify/rate-limit. Each limit (each createRateLimit) gets its own
 * child, so its in-memory counters are its own: a flood of IP addresses never pushes a
 * recipient's counter out. Keys carry the limit's name, so in Redis they never collide either.
 * The plugin's optional `read` (for `increment: false`) is left out: no limit here peeks.
 */
function counterStore(open: () => Counters): FastifyRateLimitStoreCtor {
  return class CounterStore implements FastifyRateLimitStore {
    readonly #counters = open()

    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      this.#counters.hit(key, timeWindow).then(
        (hit) => callback(null, { current: hit.count, ttl: hit.ttlMs }),
        (error: Error) => callback(error),
      )
    }

    child(): FastifyRateLimitStore {
      return new CounterStore()
    }
  }
}
