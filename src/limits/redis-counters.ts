import { Redis, type Result } from 'ioredis'
import type { Breaker, Counters, Hit } from './counters.js'

/**
 * One round trip, atomic: count the hit, and open the window (its expiry) with the first one.
 * A key found without an expiry (one written by hand, say) gets one rather than living forever.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    latchkeyHit(key: string, windowMs: number): Result<[number, number], Context>
  }
}

/** Counters every instance shares, so a limit holds however many instances serve. */
export class RedisCounters implements Counters {
  constructor(
    readonly client: Redis,
    readonly prefix: string,
  ) {
    client.defineCommand('latchkeyHit', { numberOfKeys: 1, lua: HIT })
  }

  async hit(key: string, windowMs: number): Promise<Hit> {
    const [count, ttlMs] = await this.client.latchkeyHit(`${this.prefix}${key}`, windowMs)
    return { count, ttlMs }
  }
}

/**
 * A client tuned for a limiter that must never hold a request up for long: while disconnected a
 * command fails at once instead of queueing (the caller counts in memory meanwhile), a command
 * in flight when the connection drops is not retried past one reconnect, and a Redis that stops
 * answering costs a request at most a second. The client reconnects by itself, with backoff,
 * for as long as the process runs. Without an `error` listener a Redis outage would be an
 * unhandled error event; with one it is a warning in the log.
 */
export function connectRedis(url: string, breaker: Breaker): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    connectionName: 'latchkey-rate-limits',
  })
  client.on('error', (error) => breaker.trip(error))
  client.on('ready', () => breaker.reset())
  return client
}

/**
 * Resolves once the client's first connection is ready or has failed, or after `ms`: a service
 * starting beside a healthy Redis counts in Redis from its first request, and one starting
 * during an outage starts anyway (counting in memory until Redis is back).
 */
export function firstConnection(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off('ready', done)
      client.off('error', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    client.once('ready', done)
    client.once('error', done)
  })
}
