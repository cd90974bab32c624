import { join } from 'node:path'
import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import t from 'tap'
import type { Store } from '../../src/store/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { build } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { apiLink, postVerify } from '../helpers/http.js'
import { tempDir } from '../helpers/temp.js'

const ATTEMPTS = 20

/**
 * Holds the first `count` callers until all of them have arrived, then lets everyone through.
 * No timers: it only orders the requests, so that all of them have passed every check that needs
 * no database before any of them tries to consume.
 */
class Barrier {
  #waiting: (() => void)[] = []
  constructor(private count: number) {}
  pass(): Promise<void> {
    if (this.count === 0) return Promise.resolve()
    const arrived = new Promise<void>((resolve) => this.#waiting.push(resolve))
    if (--this.count === 0) for (const release of this.#waiting.splice(0)) release()
    return arrived
  }
}

/** A SQLite store whose consumeAndOpen waits at the current barrier before it runs. */
function gatedStore(file: string, gate: { barrier: Barrier }): Store {
  const inner = openSqliteStore(file)
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'consumeAndOpen') {
        return async (...args: Parameters<Store['consumeAndOpen']>) => {
          await gate.barrier.pass()
          return target.consumeAndOpen(...args)
        }
      }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Exactly one success with a session; every other attempt 401 token_used. */
function assertOneWinner(t: Test, results: LightMyRequestResponse[]): void {
  const statuses = results.map((r) => r.statusCode)
  const wins = results.filter((r) => r.statusCode === 200)
  const losses = results.filter((r) => r.statusCode === 401)
  t.equal(wins.length, 1, `exactly one 200 (got ${statuses.join(',')})`)
  t.equal(losses.length, ATTEMPTS - 1, `${ATTEMPTS - 1} answers 401`)
  t.ok(wins[0]?.json().session?.jwt, 'the winner has a session')
  t.same(
    losses.map((r) => r.json().code),
    Array(ATTEMPTS - 1).fill('token_used'),
    'every loser is told token_used',
  )
  for (const r of losses) t.match(r.headers['content-type'], /^application\/problem\+json/)
}

t.test(`${ATTEMPTS} concurrent verifies of one one-time token: exactly one wins`, async (t) => {
  const harness = await build(t)
  const { token } = await apiLink(harness.app, { email: 'race@example.com' })
  const results = await Promise.all(
    Array.from({ length: ATTEMPTS }, () => postVerify(harness.app, { token })),
  )
  assertOneWinner(t, results)
})

t.test('two app instances on one DATA_DIR: still exactly one success', async (t) => {
  const dataDir = tempDir(t)
  const clock = new ManualClock()
  const first = await build(t, { dataDir, clock })
  const second = await build(t, { dataDir, clock })
  t.same(first.config.database, second.config.database, 'both open the same SQLite file')

  const { token } = await apiLink(first.app, { email: 'race-two@example.com' })
  const results = await Promise.all(
    Array.from({ length: ATTEMPTS }, (_, i) =>
      postVerify(i % 2 ? first.app : second.app, { token }),
    ),
  )
  assertOneWinner(t, results)

  // The instances do share the user: a link from the second sees the first's seq.
  const again = await apiLink(second.app, { email: 'race-two@example.com' })
  t.equal(
    (await postVerify(first.app, { token: again.token })).statusCode,
    200,
    'a fresh link works on the other app',
  )
})

// Without help, one request can run to its consume before the next one has decoded its token.
// Here every request is at the consume before any of them runs it: only the compare-and-increment
// can keep the token single-use.
t.test('all at the consume at once: the conditional update decides', async (t) => {
  const dataDir = tempDir(t)
  const gate = { barrier: new Barrier(0) }
  const storeA = gatedStore(join(dataDir, 'latchkey.db'), gate)
  const storeB = gatedStore(join(dataDir, 'latchkey.db'), gate)
  t.teardown(async () => {
    await storeA.close()
    await storeB.close()
  })
  const clock = new ManualClock()
  const first = await build(t, { dataDir, clock, overrides: { store: storeA } })
  const second = await build(t, { dataDir, clock, overrides: { store: storeB } })

  const { token: single } = await apiLink(first.app, { email: 'gated@example.com' })
  const { token: shared } = await apiLink(first.app, { email: 'gated-shared@example.com' })

  t.test('one instance', async (t) => {
    gate.barrier = new Barrier(ATTEMPTS)
    assertOneWinner(
      t,
      await Promise.all(
        Array.from({ length: ATTEMPTS }, () => postVerify(first.app, { token: single })),
      ),
    )
  })

  t.test('two instances', async (t) => {
    gate.barrier = new Barrier(ATTEMPTS)
    assertOneWinner(
      t,
      await Promise.all(
        Array.from({ length: ATTEMPTS }, (_, i) =>
          postVerify(i % 2 ? first.app : second.app, { token: shared }),
        ),
      ),
    )
  })
})
