import t from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import type { Store } from '../../src/store/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { adminKey, asService, build, serviceKey } from '../helpers/app.js'
import { assertProblem, postLink } from '../helpers/http.js'
import { sampleValue, scrape } from '../helpers/metrics.js'
import { isolated, REDIS_URL } from '../helpers/redis.js'
import { tempDir } from '../helpers/temp.js'

// What /metrics reads when it is scraped, against real parts: Redis up, Redis gone (a port
// where nothing listens), a database that stops answering; and the HTTP rate limits' refusals.

const metricsKey = generateApiKey('prometheus', 'metrics')
const API_KEYS = [serviceKey.entry, adminKey.entry, metricsKey.entry].join(',')
const asMetrics = `Bearer ${metricsKey.key}`

t.test('with Redis configured and answering, latchkey_redis_up is 1', async (t) => {
  const { prefix } = await isolated(t)
  const { app } = await build(t, {
    env: { API_KEYS, REDIS_URL, RATE_LIMIT_IP: '100/1m' },
    overrides: { redisPrefix: prefix },
  })
  const { samples } = await scrape(app, asMetrics)
  t.equal(sampleValue(samples, 'latchkey_redis_up'), 1)
})

t.test(
  'with Redis configured but gone, latchkey_redis_up is 0 and the scrape answers',
  async (t) => {
    const { app } = await build(t, {
      env: { API_KEYS, REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_IP: '100/1m' },
    })
    const { samples } = await scrape(app, asMetrics)
    t.equal(sampleValue(samples, 'latchkey_redis_up'), 0)
    t.equal(sampleValue(samples, 'latchkey_database_up'), 1)
  },
)

t.test('a database that does not answer reads as down, without failing the scrape', async (t) => {
  const real = openSqliteStore(`${tempDir(t)}/latchkey.db`)
  t.teardown(() => real.close())
  let down = false
  const failing =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (down) throw new Error('connection refused')
      return fn(...args)
    }
  const store: Store = {
    ...real,
    ping: failing(real.ping),
    outboxBacklog: failing(real.outboxBacklog),
  }
  const { app } = await build(t, { env: { API_KEYS }, overrides: { store } })
  const up = await scrape(app, asMetrics)
  t.equal(sampleValue(up.samples, 'latchkey_database_up'), 1)
  t.equal(sampleValue(up.samples, 'latchkey_outbox_pending', { kind: 'email' }), 0)

  down = true
  const res = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: asMetrics },
  })
  t.equal(res.statusCode, 200)
  const { samples } = await scrape(app, asMetrics)
  t.equal(sampleValue(samples, 'latchkey_database_up'), 0)
  t.equal(sampleValue(samples, 'latchkey_outbox_pending', { kind: 'email' }), undefined, 'no guess')
})

t.test('refusals past the per-IP and per-key limits are counted by limit', async (t) => {
  const { app } = await build(t, {
    env: { API_KEYS, RATE_LIMIT_IP: '2/1m', RATE_LIMIT_API_KEY: '1/1m' },
  })
  const jwks = () => app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal((await jwks()).statusCode, 200)
  t.equal((await jwks()).statusCode, 200)
  assertProblem(t, await jwks(), 429, 'rate_limited')
  const page = await app.inject({ method: 'GET', url: '/login' })
  t.equal(page.statusCode, 429, 'the pages count in the same allowance, answering with a page')

  t.equal(
    (await postLink(app, { email: 'a@example.com', deliver: 'none', create_user: true }, asService))
      .statusCode,
    202,
  )
  assertProblem(t, await postLink(app, { email: 'a@example.com' }, asService), 429, 'rate_limited')

  // The scraper's key has an allowance of its own: this is its first request.
  const { samples } = await scrape(app, asMetrics)
  t.equal(sampleValue(samples, 'latchkey_rate_limited_total', { limit: 'ip' }), 2)
  t.equal(sampleValue(samples, 'latchkey_rate_limited_total', { limit: 'api_key' }), 1)
  t.equal(sampleValue(samples, 'latchkey_rate_limited_total', { limit: 'recipient' }), undefined)
})
