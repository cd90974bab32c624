import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { LatchkeyError } from '../../client/src/errors.js'
import type { SetTimer } from '../../client/src/revocations.js'
import { createVerifier, type VerifierOptions } from '../../client/src/verifier.js'
import { ManualClock } from '../helpers/clock.js'
import { sessionJwt, signingKey, startFakeLatchkey } from '../helpers/fake-latchkey.js'
import { until } from '../helpers/poll.js'

const AUDIENCE = 'https://app.example.test'
const FEED = '/v1/revocations'

/** A timer the test runs by hand: the poller's next tick happens when the test says so. */
function manualTimer() {
  const pending: { run: () => void; ms: number; cancelled: boolean }[] = []
  const setTimer: SetTimer = (run, ms) => {
    const entry = { run, ms, cancelled: false }
    pending.push(entry)
    return { cancel: () => (entry.cancelled = true) }
  }
  return {
    setTimer,
    pending,
    /** Runs the one timer set so far that has not run; fails when there is none. */
    tick() {
      const next = pending.shift()
      if (next === undefined || next.cancelled) throw new Error('no timer is set')
      next.run()
    },
  }
}

async function setup(t: Test, options: Partial<VerifierOptions> = {}) {
  const fake = await startFakeLatchkey(t)
  const key = await signingKey('ES256')
  fake.keys.push(key.publicJwk)
  const clock = new ManualClock()
  const timer = manualTimer()
  const errors: unknown[] = []
  const make = (more: Partial<VerifierOptions> = {}) => {
    const verifier = createVerifier({
      url: fake.base,
      audience: AUDIENCE,
      apiKey: fake.apiKey,
      followRevocations: true,
      now: clock.now,
      setTimer: timer.setTimer,
      onError: (e) => errors.push(e),
      ...options,
      ...more,
    })
    t.teardown(() => verifier.close())
    return verifier
  }
  const jwt = (claims: Record<string, unknown> = {}, iat = clock.ms / 1000) =>
    sessionJwt({ issuer: fake.base, audience: AUDIENCE, key, iat, claims })
  return { fake, clock, timer, errors, make, jwt }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => (e instanceof LatchkeyError ? e.code : `not a LatchkeyError: ${String(e)}`),
  )
}

t.test('a revoke read from the feed kills older JWTs of that user only', async (t) => {
  const { fake, make, jwt, clock } = await setup(t)
  const verifier = make()
  const [ada, bob] = [randomUUID(), randomUUID()]
  const adaOld = await jwt({ sub: ada, rev: 0 })
  const bobs = await jwt({ sub: bob, rev: 0 })
  await verifier.verify(adaOld)

  fake.feed.push({ user_id: ada, rev: 1, reason: 'revoked', at: clock.ms })
  t.equal(await codeOf(verifier.verify(adaOld)), undefined, 'not known before the next sync')
  await verifier.sync()
  t.equal(await codeOf(verifier.verify(adaOld)), 'token_revoked')
  t.equal(await codeOf(verifier.verify(bobs)), undefined, 'another user is untouched')
  t.equal(await codeOf(verifier.verify(await jwt({ sub: ada, rev: 1 }))), undefined, 'a new JWT')

  const feedRequests = fake.requests.filter((r) => r.path === FEED)
  t.equal(feedRequests.length, 2, 'one request per sync, none per JWT')
  t.equal(feedRequests[0]?.query.get('after'), null, 'the first starts from the beginning')
  t.equal(feedRequests[1]?.query.get('after'), '0', 'the next from the cursor it was given')
  t.equal(feedRequests[0]?.authorization, `Bearer ${fake.apiKey}`)
})

t.test('an ended session kills its JWTs only, whatever their rev', async (t) => {
  const { fake, make, jwt, clock } = await setup(t)
  const verifier = make()
  const user = randomUUID()
  const [laptop, phone] = [randomUUID(), randomUUID()]
  const laptopJwt = await jwt({ sub: user, sid: laptop, rev: 2 })
  const phoneJwt = await jwt({ sub: user, sid: phone, rev: 2 })
  fake.feed.push({ user_id: user, rev: 2, session_id: laptop, reason: 'logout', at: clock.ms })
  await verifier.sync()
  t.equal(await codeOf(verifier.verify(laptopJwt)), 'session_ended')
  t.equal(await codeOf(verifier.verify(phoneJwt)), undefined, 'the other device stays in')
})

t.test(
  'the first verify waits for the first sync: nothing revoked slips through at start',
  async (t) => {
    const { fake, make, jwt, clock } = await setup(t)
    const user = randomUUID()
    fake.feed.push({
      user_id: user,
      rev: 1,
      reason: 'disabled',
      at: new Date(clock.ms).toISOString(),
    })
    const verifier = make()
    t.equal(await codeOf(verifier.verify(await jwt({ sub: user, rev: 0 }))), 'token_revoked')
  },
)

t.test(
  'a revoke that also ended the session answers token_revoked, as latchkey does',
  async (t) => {
    const { fake, make, jwt, clock } = await setup(t)
    const verifier = make()
    const [user, sid] = [randomUUID(), randomUUID()]
    const token = await jwt({ sub: user, sid, rev: 0 })
    fake.feed.push({ user_id: user, rev: 1, reason: 'revoked', at: clock.ms })
    fake.feed.push({ user_id: user, rev: 1, session_id: sid, reason: 'revoked', at: clock.ms })
    await verifier.sync()
    t.equal(await codeOf(verifier.verify(token)), 'token_revoked')
  },
)

t.test('a deleted user: every JWT of theirs is dead', async (t) => {
  const { fake, make, jwt, clock } = await setup(t)
  const verifier = make()
  const user = randomUUID()
  fake.feed.push({ user_id: user, rev: 0, reason: 'deleted', at: clock.ms / 1000 })
  await verifier.sync()
  t.equal(await codeOf(verifier.verify(await jwt({ sub: user, rev: 0 }))), 'token_revoked')
})

t.test('a sync reads every page, handing each cursor back', async (t) => {
  const { fake, make, jwt, clock } = await setup(t, { feedLimit: 2 })
  const verifier = make()
  await verifier.sync()
  const users = Array.from({ length: 5 }, () => randomUUID())
  for (const user of users)
    fake.feed.push({ user_id: user, rev: 1, reason: 'revoked', at: clock.ms })
  const before = fake.count(FEED)
  await verifier.sync()
  t.equal(fake.count(FEED) - before, 3, 'pages of 2, 2 and 1')
  const afters = fake.requests.filter((r) => r.path === FEED).map((r) => r.query.get('after'))
  t.same(afters.slice(-3), ['0', '2', '4'])
  const limits = fake.requests.filter((r) => r.path === FEED).map((r) => r.query.get('limit'))
  t.ok(
    limits.every((l) => l === '2'),
    'every request asks for the page size',
  )
  for (const user of users) {
    t.equal(await codeOf(verifier.verify(await jwt({ sub: user, rev: 0 }))), 'token_revoked')
  }
})

t.test('the poller: a sync every interval after the last one ends, none after close', async (t) => {
  const { fake, make, timer, jwt, clock } = await setup(t, { interval: 1234 })
  const verifier = make()
  const user = randomUUID()
  const token = await jwt({ sub: user, rev: 0 })
  await verifier.verify(token)
  t.equal(fake.count(FEED), 1, 'the first sync at start')
  t.equal(timer.pending.length, 1)
  t.equal(timer.pending[0]?.ms, 1234, 'the next one interval later')

  fake.feed.push({ user_id: user, rev: 1, reason: 'revoked', at: clock.ms })
  timer.tick()
  await until(async () => (await codeOf(verifier.verify(token))) === 'token_revoked', 'the poll')
  t.equal(fake.count(FEED), 2, 'learned from the poll the tick started')

  t.equal(timer.pending.length, 1, 'and the next poll is set')
  verifier.close()
  t.ok(timer.pending[0]?.cancelled, 'close cancels it')
})

t.test(
  'a sync called during another runs after it; the calls made meanwhile share it',
  async (t) => {
    const { fake, make, jwt, clock } = await setup(t)
    const verifier = make()
    await verifier.sync()
    const before = fake.count(FEED)
    const user = randomUUID()
    const first = verifier.sync()
    // The running sync may already have its answer: this entry is for the one after it.
    fake.feed.push({ user_id: user, rev: 1, reason: 'revoked', at: clock.ms })
    await Promise.all([first, verifier.sync(), verifier.sync()])
    t.equal(fake.count(FEED) - before, 2, 'the running one and one more')
    t.equal(await codeOf(verifier.verify(await jwt({ sub: user, rev: 0 }))), 'token_revoked')
  },
)

t.test(
  'memory: entries go once older than retention, and so do the JWTs they killed',
  async (t) => {
    const retention = 15 * 60_000
    const { fake, make, jwt, clock } = await setup(t, { retention })
    const verifier = make()
    const users = Array.from({ length: 3 }, () => randomUUID())
    const old = await Promise.all(users.map((sub) => jwt({ sub, rev: 0 })))
    const when = clock.ms
    for (const user of users) {
      fake.feed.push({ user_id: user, rev: 1, session_id: randomUUID(), reason: 'admin', at: when })
    }
    await verifier.sync()
    t.match(verifier.feedStatus(), { users: 3, sessions: 3, lastSyncAt: clock.ms })
    for (const token of old) t.equal(await codeOf(verifier.verify(token)), 'token_revoked')

    clock.advance(retention / 1000 + 61)
    await verifier.sync()
    t.match(verifier.feedStatus(), { users: 0, sessions: 0 }, 'all forgotten')
    for (const token of old) {
      t.equal(await codeOf(verifier.verify(token)), 'token_expired', 'refused by age alone')
    }
    // A JWT younger than retention is judged by the feed, which no longer names these users.
    const fresh = await jwt({ sub: users[0], rev: 1 })
    t.equal(await codeOf(verifier.verify(fresh)), undefined)

    // A follower starting now reads the old entries and never holds them.
    const asked = fake.requests.length
    const late = make()
    await late.sync()
    t.match(late.feedStatus(), { users: 0, sessions: 0 })
    const first = fake.requests.slice(asked).find((r) => r.path === FEED)
    t.equal(first?.query.get('after'), null, 'it read the feed from the start')
  },
)

t.test('a feed that fails: onError hears it, verify goes on, the cursor stays', async (t) => {
  const { fake, make, jwt, errors, clock } = await setup(t)
  const verifier = make()
  const user = randomUUID()
  const token = await jwt({ sub: user })
  await verifier.sync()
  fake.state.feedStatus = 500
  await t.rejects(verifier.sync())
  t.equal(errors.length, 1)
  t.match(errors[0], { code: 'unexpected_response', status: 500 })
  t.equal(await codeOf(verifier.verify(token)), undefined, 'signatures still verify')

  fake.state.feedStatus = 200
  fake.state.feedBody = { revocations: [{ user_id: user }], cursor: 'x' }
  await t.rejects(verifier.sync(), { code: 'unexpected_response' }, 'a malformed page fails')
  fake.state.feedBody = undefined
  fake.feed.push({ user_id: user, rev: 1, reason: 'revoked', at: clock.ms })
  await verifier.sync()
  t.equal(fake.requests.at(-1)?.query.get('after'), '0', 'from where the last good page ended')
  t.equal(await codeOf(verifier.verify(token)), 'token_revoked')
})

t.test('a cursor the feed refuses: read again from the start, once', async (t) => {
  const { fake, make, jwt, errors, clock } = await setup(t)
  const verifier = make()
  const user = randomUUID()
  fake.feed.push({ user_id: user, rev: 1, reason: 'revoked', at: clock.ms })
  await verifier.sync()
  fake.state.feedBody = { revocations: [], cursor: 'from-another-deployment' }
  await verifier.sync()
  fake.state.feedBody = undefined
  await verifier.sync()
  const afters = fake.requests.filter((r) => r.path === FEED).map((r) => r.query.get('after'))
  t.same(afters.slice(-2), ['from-another-deployment', null], 'refused, then from the start')
  t.same(errors, [], 'nothing to report')
  t.equal(await codeOf(verifier.verify(await jwt({ sub: user, rev: 0 }))), 'token_revoked')

  // A feed that refuses even the start is an error, not a loop.
  fake.state.feedBody = { revocations: [], cursor: 'bad' }
  await verifier.sync()
  fake.state.feedBody = undefined
  fake.state.feedStatus = 400
  await t.rejects(verifier.sync(), { code: 'unexpected_response', status: 400 })
  t.equal(errors.length, 1)
})

t.test('maxStaleness: a feed silent for too long makes verify answer unavailable', async (t) => {
  const { fake, make, jwt, clock } = await setup(t, { maxStaleness: 30_000 })
  const verifier = make()
  const token = await jwt()
  await verifier.verify(token)
  fake.state.feedStatus = 503
  clock.advance(20)
  await t.rejects(verifier.sync())
  t.equal(await codeOf(verifier.verify(token)), undefined, 'within maxStaleness')
  clock.advance(11)
  await t.rejects(verifier.verify(token), { code: 'unavailable', status: 503 })
  fake.state.feedStatus = 200
  await verifier.sync()
  const fresh = await jwt()
  t.equal(await codeOf(verifier.verify(fresh)), undefined, 'back once a sync succeeds')
})

t.test('a wrong API key is the feed’s 401, told to onError', async (t) => {
  const { make, errors } = await setup(t)
  const verifier = make({ apiKey: 'not-the-key' })
  await t.rejects(verifier.sync(), { code: 'unauthorized', status: 401 })
  t.ok(errors.length >= 1)
})

t.test('followRevocations needs an API key; intervals must be positive', async (t) => {
  t.throws(
    () => createVerifier({ url: 'http://x.test', audience: 'a', followRevocations: true }),
    TypeError,
  )
  t.throws(
    () =>
      createVerifier({
        url: 'http://x.test',
        audience: 'a',
        apiKey: 'k',
        followRevocations: true,
        interval: 0,
      }),
    TypeError,
  )
})

t.test('a feed nobody answers on is unexpected_response 503', async (t) => {
  const errors: unknown[] = []
  const verifier = createVerifier({
    url: 'http://127.0.0.1:1',
    audience: AUDIENCE,
    apiKey: 'k',
    followRevocations: true,
    setTimer: manualTimer().setTimer,
    onError: (e) => errors.push(e),
  })
  t.teardown(() => verifier.close())
  await t.rejects(verifier.sync(), { code: 'unexpected_response', status: 503 })
  t.ok(errors.every((e) => e instanceof LatchkeyError))
})
