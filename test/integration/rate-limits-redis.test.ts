import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import t from 'tap'
import { asAdmin, asService, build, serviceKey, type TestApp } from '../helpers/app.js'
import { apiLink, assertProblem, postLink } from '../helpers/http.js'
import { Browser, mustForm, SAME_ORIGIN } from '../helpers/pages.js'
import { until } from '../helpers/poll.js'
import { freePort } from '../helpers/process.js'
import { isolated, REDIS_URL } from '../helpers/redis.js'
import { tempDir } from '../helpers/temp.js'

// The limits in Redis, as several instances share them: a real Redis (REDIS_TEST_URL, by default
// the local one on 6379), each run under its own key prefix, deleted afterwards. Then Redis gone
// (a port where nothing listens), and Redis going away and coming back (a redis-server of our
// own): the service answers throughout and limits in memory meanwhile.

async function twoInstances(t: Test, env: Record<string, string>, redisPrefix: string) {
  // One database, as two instances behind one load balancer would have.
  const dataDir = tempDir(t)
  const apps: TestApp[] = []
  for (let i = 0; i < 2; i++) {
    apps.push(await build(t, { dataDir, env, overrides: { redisPrefix } }))
  }
  return apps as [TestApp, TestApp]
}

const warnings = (h: TestApp) =>
  h.logs.filter((line) => line.includes('rate limits count in memory: Redis is unavailable'))

t.test('two instances share their counters through Redis', async (t) => {
  const { redis, prefix } = await isolated(t)
  const [a, b] = await twoInstances(
    t,
    {
      REDIS_URL,
      RATE_LIMIT_IP: '3/1h',
      RATE_LIMIT_API_KEY: '6/1h',
      RATE_LIMIT_RECIPIENT: '3/1h',
    },
    prefix,
  )

  // Per recipient: by email on one instance, by user id on the other.
  const ada = await apiLink(a.app, { email: 'ada@example.com' })
  t.equal((await postLink(a.app, { email: 'ada@example.com' })).statusCode, 202)
  t.equal((await postLink(b.app, { user_id: ada.userId })).statusCode, 202)
  t.equal((await postLink(a.app, { email: 'ADA@example.com' })).statusCode, 202)
  const over = await postLink(b.app, { email: 'ada@example.com' })
  assertProblem(t, over, 429, 'rate_limited')
  const retryAfter = Number(over.headers['retry-after'])
  t.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After from Redis's own TTL: ${retryAfter}`)

  // Per API key: five requests with the service key so far; one more on each instance.
  const verify = (h: TestApp) =>
    h.app.inject({
      method: 'POST',
      url: '/v1/links/verify',
      headers: asService,
      payload: { token: 'x' },
    })
  assertProblem(t, await verify(a), 401, 'token_invalid')
  assertProblem(t, await verify(b), 429, 'rate_limited')
  t.equal(
    (await a.app.inject({ method: 'GET', url: '/v1/admin/users', headers: asAdmin })).statusCode,
    200,
    'the admin key has its own budget',
  )

  // Per client IP.
  const page = (h: TestApp) =>
    h.app.inject({ method: 'GET', url: '/login', remoteAddress: '192.0.2.7' })
  t.equal((await page(a)).statusCode, 200)
  t.equal((await page(b)).statusCode, 200)
  t.equal((await page(a)).statusCode, 200)
  t.equal((await page(b)).statusCode, 429, 'the fourth page view, wherever it lands')

  const keys = (await redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)).sort()
  t.equal(keys.length, 4, `one counter per limited thing: ${keys}`)
  t.equal(keys.filter((k) => /^ip:[A-Za-z0-9_-]{43}$/.test(k)).length, 1, 'the client IP, hashed')
  t.notOk(
    keys.some((k) => k.includes('192.0.2.7')),
    'no client address in Redis',
  )
  t.ok(keys.includes('key:svc') && keys.includes('key:ops'), 'API keys by name, never the key')
  const recipients = keys.filter((k) => k.startsWith('to:'))
  t.equal(recipients.length, 1, 'one address, one counter')
  t.match(recipients[0], /^to:[A-Za-z0-9_-]{43}$/, 'a keyed hash: no address in Redis')
  for (const key of keys) {
    const ttl = await redis.pttl(`${prefix}${key}`)
    t.ok(ttl > 0 && ttl <= 3_600_000, `${key} expires with its window`)
  }
  t.same(warnings(a).concat(warnings(b)), [], 'no fallback while Redis answers')
})

t.test('the hosted form’s per-IP email budget is shared, and alone turns Redis on', async (t) => {
  const { redis, prefix } = await isolated(t)
  // Only this limit on: the counters must still go to Redis.
  const [a, b] = await twoInstances(t, { REDIS_URL, RATE_LIMIT_FORM_IP: '3/1h' }, prefix)
  const browser = new Browser(a.app)
  const page = await browser.get('/login')
  const fields = mustForm(page.body, '/login')
  const post = (h: TestApp, email: string) =>
    h.app.inject({
      method: 'POST',
      url: '/login',
      remoteAddress: '192.0.2.8',
      headers: {
        ...SAME_ORIGIN,
        cookie: [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({ ...fields, email }).toString(),
    })
  const statuses = []
  for (let i = 0; i < 5; i++) {
    statuses.push((await post(i % 2 ? b : a, `form-${i}@example.com`)).statusCode)
  }
  t.same(statuses, [200, 200, 200, 429, 429], 'three emails in all, on either instance')

  const keys = (await redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length))
  t.equal(keys.length, 1, `one counter: ${keys}`)
  t.match(keys[0], /^form:[A-Za-z0-9_-]{43}$/, 'the client IP, hashed')
  t.equal(await redis.get(`${prefix}${keys[0]}`), '5', 'every post counted in Redis')
})

t.test('concurrent requests on two instances: exactly the limit gets through', async (t) => {
  const { prefix } = await isolated(t)
  const [a, b] = await twoInstances(t, { REDIS_URL, RATE_LIMIT_RECIPIENT: '4/1h' }, prefix)
  const answers = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      postLink(i % 2 ? a.app : b.app, { email: 'race@example.com' }),
    ),
  )
  const statuses = answers.map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 202).length, 4, '4 accepted')
  t.equal(statuses.filter((s) => s === 429).length, 8, 'the rest refused')
})

t.test('Redis unreachable: the service answers, and limits each instance in memory', async (t) => {
  const h = await build(t, {
    env: {
      REDIS_URL: 'redis://127.0.0.1:1',
      RATE_LIMIT_API_KEY: '5/1m',
      RATE_LIMIT_RECIPIENT: '2/15m',
    },
  })
  t.equal((await postLink(h.app, { email: 'lin@example.com' })).statusCode, 202, 'served')
  t.equal((await postLink(h.app, { email: 'lin@example.com' })).statusCode, 202)
  assertProblem(t, await postLink(h.app, { email: 'lin@example.com' }), 429, 'rate_limited')
  t.equal((await postLink(h.app, { email: 'other@example.com' })).statusCode, 202)
  const none = { email: 'other@example.com', deliver: 'none' }
  t.equal((await postLink(h.app, none)).statusCode, 202, 'the fifth request with the key')
  const sixth = await postLink(h.app, none)
  assertProblem(t, sixth, 429, 'rate_limited')
  t.equal(sixth.json().detail, 'Too many requests with this API key.', 'the sixth: per key')

  const warned = warnings(h)
  t.equal(warned.length, 1, 'one warning however many requests fell back')
  t.match(warned[0], /"level":40/, 'a warning')
  for (const line of h.logs) {
    t.notOk(
      ['lin@example', 'other@example', 'key:svc', serviceKey.key].some((s) => line.includes(s)),
      'no address, key or counter in the log',
    )
  }
})

const redisServer = spawnSync('redis-server', ['--version']).status === 0

t.test(
  'Redis goes away and comes back: memory meanwhile, Redis again after',
  { skip: redisServer ? false : 'needs the redis-server program, to stop and start one' },
  async (t) => {
    const port = await freePort()
    const url = `redis://127.0.0.1:${port}`
    let server: ChildProcess | undefined
    const startRedis = async () => {
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      )
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      probe.on('error', () => undefined)
      await until(
        () =>
          probe
            .connect()
            .then(() => probe.ping())
            .then(
              () => true,
              () => false,
            ),
        'redis-server starts',
      )
      probe.disconnect()
    }
    const stopRedis = async () => {
      const stopped = new Promise((resolve) => server?.once('exit', resolve))
      server?.kill('SIGKILL')
      await stopped
    }
    t.teardown(() => server?.kill('SIGKILL'))
    await startRedis()

    const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    redis.on('error', () => undefined)
    t.teardown(() => redis.disconnect())
    const prefix = `latchkey-test:${randomBytes(6).toString('hex')}:`
    const h = await build(t, {
      env: { REDIS_URL: url, RATE_LIMIT_API_KEY: '100/1h' },
      overrides: { redisPrefix: prefix },
    })
    const call = () =>
      h.app.inject({
        method: 'POST',
        url: '/v1/sessions/introspect',
        headers: asService,
        payload: { jwt: 'x' },
      })
    const counted = async () => Number((await redis.get(`${prefix}key:svc`)) ?? 0)

    await until(async () => {
      await call()
      return (await redis.ping().then(counted, () => 0)) > 0
    }, 'the app counts in Redis')

    // Past the warning interval: the warning that follows is this outage's.
    h.clock.advance(60)
    const before = h.logs.length
    await stopRedis()
    for (let i = 0; i < 5; i++)
      t.equal((await call()).statusCode, 200, 'served while Redis is gone')
    const outage = () => warnings({ ...h, logs: h.logs.slice(before) })
    t.equal(outage().length, 1, 'and said so, once')

    await startRedis()
    await until(async () => {
      await call()
      return (await counted().catch(() => 0)) > 0
    }, 'the app counts in Redis again')
    const since = h.logs.slice(before)
    t.ok(
      since.some((line) => line.includes('rate limits count in Redis again')),
      'and said so',
    )
    t.equal(outage().length, 1, 'one warning for the whole outage')
  },
)
