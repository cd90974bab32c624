import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'

/** The Redis tests use: the machine's own on 6379 unless REDIS_TEST_URL names another. */
export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'

/**
 * The test's own client, to look at Redis, and a key prefix of this run's own whose keys are
 * deleted afterwards. Fails at once, saying what is missing, when Redis does not answer.
 */
export async function isolated(t: Test): Promise<{ redis: Redis; prefix: string }> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => null })
  redis.on('error', () => undefined)
  try {
    await redis.ping()
  } catch (error) {
    redis.disconnect()
    throw new Error(`these tests need Redis at ${REDIS_URL} (set REDIS_TEST_URL): ${error}`)
  }
  const prefix = `latchkey-test:${randomBytes(6).toString('hex')}:`
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  })
  return { redis, prefix }
}
