import type { Clock } from '../clock.js'

/** A key's count in its current window, and the milliseconds until the window ends. */
export interface Hit {
  count: number
  ttlMs: number
}

/**
 * Fixed-window counters: the first hit on a key opens a window of `windowMs`, every hit in it
 * adds one, and the next hit after it opens a new one. Keys never hold an email address in clear
 * (a keyed hash of it), nor a secret (an API key's name, not the key).
 */
export interface Counters {
  hit(key: string, windowMs: number): Promise<Hit>
}

/** The warnings a counter store writes; pino's logger is one. */
export interface CounterLog {
  warn(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
}

/**
 * Counters in this process, for one limit (one window length). The map is kept in the order the
 * windows opened, which for one window length is the order they end: expired windows are swept
 * from the front as new ones open, so memory follows the traffic of one window, and past
 * `capacity` keys the oldest window is dropped. A flood of distinct keys can so reset some
 * counters early; it cannot make the process grow without bound.
 */
export class MemoryCounters implements Counters {
  readonly #windows = new Map<string, { count: number; endsAt: number }>()

  constructor(
    readonly clock: Clock,
    readonly capacity = 50_000,
  ) {}

  get size(): number {
    return this.#windows.size
  }

  async hit(key: string, windowMs: number): Promise<Hit> {
    const now = this.clock()
    for (const [oldest, window] of this.#windows) {
      if (window.endsAt > now) break
      this.#windows.delete(oldest)
    }
    let window = this.#windows.get(key)
    // The sweep stops at the first live window, so an ended one can still be here; and a window
    // ending further off than a whole window was opened before the wall clock stepped back.
    // Either way it is over: this hit opens a new one, at the back of the order.
    if (window !== undefined && (window.endsAt <= now || window.endsAt - now > windowMs)) {
      this.#windows.delete(key)
      window = undefined
    }
    if (window === undefined) {
      window = { count: 0, endsAt: now + windowMs }
      this.#windows.set(key, window)
      if (this.#windows.size > this.capacity) {
        this.#windows.delete(this.#windows.keys().next().value as string)
      }
    }
    window.count += 1
    return { count: window.count, ttlMs: window.endsAt - now }
  }
}

/** How long a failed primary is left alone before it is tried again, unless it says it is back. */
export const RETRY_PRIMARY_MS = 5_000
/** At most one warning per this long, however many requests fall back. */
export const WARN_EVERY_MS = 60_000

/**
 * Whether the shared store (Redis) is to be tried, for every limit at once. After a failure the
 * limits count in memory for a few seconds instead of each request waiting for a timeout again;
 * the Redis client's `ready` event ends that at once. Warnings are rate-limited and carry the
 * error's message only: no key, so no IP address, API key name or address hash.
 */
export class Breaker {
  #openUntil = Number.NEGATIVE_INFINITY
  #lastWarning = Number.NEGATIVE_INFINITY
  #warned = false

  constructor(
    readonly clock: Clock,
    readonly log: CounterLog,
  ) {}

  isOpen(): boolean {
    return this.clock() < this.#openUntil
  }

  trip(error: unknown): void {
    const now = this.clock()
    this.#openUntil = now + RETRY_PRIMARY_MS
    if (now - this.#lastWarning < WARN_EVERY_MS) return
    this.#lastWarning = now
    this.#warned = true
    const reason = error instanceof Error ? error.message : String(error)
    this.log.warn({ reason }, 'rate limits count in memory: Redis is unavailable')
  }

  reset(): void {
    this.#openUntil = Number.NEGATIVE_INFINITY
    if (this.#warned) this.log.info({}, 'rate limits count in Redis again')
    this.#warned = false
  }
}

/**
 * The shared counters, and this process's own when they fail. Serving on with per-instance
 * limits beats both answers a dead Redis could otherwise force: refusing every sign-in (fail
 * closed) or limiting nothing (fail open). With N instances a limit is at worst N times looser
 * while Redis is down.
 */
export class FallbackCounters implements Counters {
  constructor(
    readonly primary: Counters,
    readonly fallback: Counters,
    readonly breaker: Breaker,
  ) {}

  async hit(key: string, windowMs: number): Promise<Hit> {
    if (!this.breaker.isOpen()) {
      try {
        return await this.primary.hit(key, windowMs)
      } catch (error) {
        this.breaker.trip(error)
      }
    }
    return this.fallback.hit(key, windowMs)
  }
}
