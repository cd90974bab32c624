import type { Clock } from '../clock.js'
import type { Config, Rate } from '../config/index.js'
import {
  Breaker,
  type CounterLog,
  type Counters,
  FallbackCounters,
  type Hit,
  MemoryCounters,
} from './counters.js'
import type { RateVerdict, RecipientLimiter } from './recipient-budget.js'

/** One limit, checked directly: counts a hit on `key` and says whether it is within the rate. */
export interface Limiter {
  hit(key: string): Promise<RateVerdict>
}

export interface LimitsOptions {
  /** Where the counters live in Redis: `REDIS_KEY_PREFIX` + `rl:` unless given here. */
  redisPrefix?: string | undefined
  /** `false`: in this process even when REDIS_URL is set. */
  shared?: boolean | undefined
}

const ALLOWED: RateVerdict = Object.freeze({ allowed: true, retryAfterSeconds: 0 })

/**
 * The counters of DESIGN requirement 15, in one place for every limit: in this process, or in
 * Redis when REDIS_URL is set (falling back to this process while Redis is unavailable). Built
 * from the configuration before anything counts, and closed by whoever built it.
 *
 * Every key starts with its limit's name (`ip:`, `key:`, `to:`, `form:` …), so in Redis no two
 * limits collide, and in memory each name has counters of its own: a flood of IP addresses never
 * pushes a recipient's counter out.
 */
export class Limits implements Counters {
  readonly #counters = new Map<string, Counters>()
  readonly #open: () => Counters
  readonly #close: () => void
  readonly #sharedUp: (() => boolean) | undefined
  /** The recipient budget the use cases spend (RATE_LIMIT_RECIPIENT). */
  readonly recipients: RecipientLimiter
  /** The sign-in code guess budget, per inbox (RATE_LIMIT_CODE): a counter of its own. */
  readonly codeGuesses: RecipientLimiter

  private constructor(
    config: Config,
    open: () => Counters,
    close: () => void,
    sharedUp?: () => boolean,
  ) {
    this.#open = open
    this.#close = close
    this.#sharedUp = sharedUp
    const byRecipient = this.limiter(config.rateLimits.recipient)
    this.recipients = { hit: (recipientKey) => byRecipient.hit(`to:${recipientKey}`) }
    const byCode = this.limiter(config.rateLimits.code)
    this.codeGuesses = { hit: (inboxKey) => byCode.hit(`code:${inboxKey}`) }
  }

  static async open(
    config: Config,
    clock: Clock,
    log: CounterLog,
    options: LimitsOptions = {},
  ): Promise<Limits> {
    const memory = () => new MemoryCounters(clock)
    const rates = Object.values(config.rateLimits)
    const { redisUrl } = config
    const local = options.shared === false || redisUrl === undefined
    if (local || rates.every((rate) => rate === null)) {
      return new Limits(config, memory, () => undefined)
    }
    // The Redis client is loaded only by a configuration that counts in Redis.
    const { connectRedis, firstConnection, RedisCounters } = await import('./redis-counters.js')
    const breaker = new Breaker(clock, log)
    const client = connectRedis(redisUrl, breaker)
    const shared = new RedisCounters(client, options.redisPrefix ?? `${config.redisKeyPrefix}rl:`)
    await firstConnection(client, 2_000)
    return new Limits(
      config,
      () => new FallbackCounters(shared, memory(), breaker),
      () => client.disconnect(),
      // Connected, and not set aside after a failure: the limits count in Redis right now.
      () => client.status === 'ready' && !breaker.isOpen(),
    )
  }

  /**
   * Whether the counters are in Redis at this moment (false while they fall back to memory);
   * undefined when they are kept in this process by configuration.
   */
  sharedUp(): boolean | undefined {
    return this.#sharedUp?.()
  }

  hit(key: string, windowMs: number): Promise<Hit> {
    const name = key.split(':', 1)[0] as string
    let counters = this.#counters.get(name)
    if (counters === undefined) {
      counters = this.#open()
      this.#counters.set(name, counters)
    }
    return counters.hit(key, windowMs)
  }

  /** A check of one limit for keys given whole (`ip:…`); everything allowed when it is off. */
  limiter(rate: Rate | null): Limiter {
    if (rate === null) return { hit: async () => ALLOWED }
    const windowMs = rate.windowSeconds * 1000
    return {
      hit: async (key) => {
        const { count, ttlMs } = await this.hit(key, windowMs)
        if (count <= rate.max) return ALLOWED
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) }
      },
    }
  }

  /** Lets go of Redis; nothing may count afterwards. */
  async close(): Promise<void> {
    this.#close()
  }
}
