import t from 'tap'
import { Limits } from '../../src/limits/limits.js'
import { testConfig } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'

// The direct counter API: what the pages and the use cases call, without a request.

const silent = { warn: () => undefined, info: () => undefined }

async function limits(env: Record<string, string>) {
  const clock = new ManualClock()
  const config = testConfig(t.testdirName, env)
  return { clock, limits: await Limits.open(config, clock.now, silent) }
}

t.test('a limiter allows `max` hits a window, then says how long to wait', async (t) => {
  const { clock, limits: l } = await limits({ RATE_LIMIT_FORM_IP: '2/1m' })
  t.teardown(() => l.close())
  const form = l.limiter({ max: 2, windowSeconds: 60 })
  t.same(await form.hit('form:a'), { allowed: true, retryAfterSeconds: 0 })
  t.same(await form.hit('form:a'), { allowed: true, retryAfterSeconds: 0 })
  t.same(await form.hit('form:a'), { allowed: false, retryAfterSeconds: 60 })
  t.same(await form.hit('form:b'), { allowed: true, retryAfterSeconds: 0 }, 'per key')
  clock.advance(59.5)
  t.same(await form.hit('form:a'), { allowed: false, retryAfterSeconds: 1 }, 'never 0 s')
  clock.advance(0.5)
  t.same(await form.hit('form:a'), { allowed: true, retryAfterSeconds: 0 }, 'a new window')
})

t.test('a limit that is off allows everything and counts nothing', async (t) => {
  const { limits: l } = await limits({})
  t.teardown(() => l.close())
  const off = l.limiter(null)
  for (let i = 0; i < 3; i++) t.same(await off.hit('ip:a'), { allowed: true, retryAfterSeconds: 0 })
  t.equal((await l.hit('ip:a', 60_000)).count, 1, 'the key was never counted')
})

t.test('the recipient budget counts under its own name, at RATE_LIMIT_RECIPIENT', async (t) => {
  const { limits: l } = await limits({ RATE_LIMIT_RECIPIENT: '1/15m' })
  t.teardown(() => l.close())
  t.same(await l.recipients.hit('r1'), { allowed: true, retryAfterSeconds: 0 })
  t.same(await l.recipients.hit('r1'), { allowed: false, retryAfterSeconds: 900 })
  t.equal((await l.hit('to:r1', 900_000)).count, 3, 'the key is `to:` and the hash')
  t.equal((await l.hit('form:r1', 900_000)).count, 1, 'another limit, another counter')
})
