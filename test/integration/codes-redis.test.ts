import t from 'tap'
import { build, type TestApp } from '../helpers/app.js'
import { emailLink, mailedCode, otherCode, postCode } from '../helpers/codes.js'
import { assertProblem } from '../helpers/http.js'
import { isolated, REDIS_URL } from '../helpers/redis.js'
import { tempDir } from '../helpers/temp.js'

// The sign-in code guess budget (DESIGN requirement 18) as several instances share it: counted in
// Redis, so a guesser spreading attempts over instances gets no more tries, and what Redis holds
// names neither the address nor the code.

t.test('two instances share one guess budget per inbox through Redis', async (t) => {
  const { redis, prefix } = await isolated(t)
  const dataDir = tempDir(t)
  const env = { REDIS_URL, RATE_LIMIT_CODE: '3/1h' }
  const apps: TestApp[] = []
  for (let i = 0; i < 2; i++)
    apps.push(await build(t, { dataDir, env, overrides: { redisPrefix: prefix } }))
  const [a, b] = apps as [TestApp, TestApp]

  const email = 'guess@example.com'
  await emailLink(a.app, email)
  const code = await mailedCode(a, email)
  const wrong = otherCode(code)
  assertProblem(t, await postCode(a.app, { email, code: wrong }), 401, 'code_invalid')
  assertProblem(t, await postCode(b.app, { email, code: wrong }), 401, 'code_invalid')
  assertProblem(t, await postCode(a.app, { email, code: wrong }), 401, 'code_invalid')
  const over = await postCode(b.app, { email, code })
  assertProblem(t, over, 429, 'rate_limited')
  const retryAfter = Number(over.headers['retry-after'])
  t.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After from Redis's own TTL: ${retryAfter}`)
  assertProblem(t, await postCode(a.app, { email, code }), 429, 'rate_limited')

  // A new email, from the other instance: still no new budget.
  await emailLink(b.app, email)
  const fresh = await mailedCode(b, email)
  assertProblem(t, await postCode(a.app, { email, code: fresh }), 429, 'rate_limited')

  // Another inbox has its own.
  await emailLink(a.app, 'other@example.com')
  const theirs = await mailedCode(a, 'other@example.com')
  t.equal((await postCode(b.app, { email: 'other@example.com', code: theirs })).statusCode, 200)

  const keys = (await redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length))
  const codeKeys = keys.filter((k) => k.startsWith('rl:code:') || k.startsWith('code:'))
  t.equal(codeKeys.length, 2, `one counter per inbox: ${keys}`)
  const everything = keys.join('\n')
  for (const secret of [email, 'guess', code, code.replace('-', ''), wrong, fresh, theirs]) {
    t.notOk(everything.includes(secret), `Redis keys do not hold ${secret}`)
  }
  for (const key of keys) {
    const value = String(await redis.get(`${prefix}${key}`))
    t.match(value, /^\d+$/, 'a counter holds a count, nothing else')
  }
})
