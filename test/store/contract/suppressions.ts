import type { Test } from 'tap'
import type { Suppression } from '../../../src/store/suppressions.js'
import { until } from '../../helpers/poll.js'
import { DAY, signedIn, T0, UNKNOWN_ID, type WithStore } from './fixtures.js'

const HOSTED = { actor: 'hosted', ip: '198.51.100.4', userAgent: 'Mail/1.0' }
const HOUR = 3_600_000

const entry = (overrides: Partial<Suppression> = {}): Suppression => ({
  address: 'ada@example.com',
  email: 'Ada+news@example.com',
  reason: 'reported',
  createdAt: T0,
  expiresAt: T0 + DAY,
  ...overrides,
})

/** The suppression list, and the "this wasn't me" report that writes to it with its change. */
export function suppressionsContract(t: Test, withStore: WithStore): void {
  t.test('an entry stops email until it expires; a permanent one for good', async (t) => {
    const store = await withStore(t)
    t.equal(await store.activeSuppression('ada@example.com', T0), undefined, 'none yet')
    await store.suppress(entry())
    t.same(await store.activeSuppression('ada@example.com', T0 + 1), entry(), 'as written')
    t.same(await store.activeSuppression('ada@example.com', T0 + DAY - 1), entry())
    t.equal(await store.activeSuppression('ada@example.com', T0 + DAY), undefined, 'expired')
    t.equal(await store.activeSuppression('bob@example.com', T0), undefined, 'per address')
    t.equal(await store.activeSuppression('', T0), undefined, 'no address is nothing')

    await store.suppress(entry({ address: 'bob@example.com', reason: 'bounced', expiresAt: null }))
    t.match(await store.activeSuppression('bob@example.com', T0 + 365 * DAY), {
      reason: 'bounced',
      expiresAt: null,
    })
  })

  t.test('an entry is only ever lengthened, never cut short', async (t) => {
    const store = await withStore(t)
    await store.suppress(entry({ expiresAt: T0 + DAY }))
    await store.suppress(entry({ createdAt: T0 + 1, expiresAt: T0 + HOUR }))
    t.equal((await store.activeSuppression('ada@example.com', T0))?.expiresAt, T0 + DAY, 'kept')
    await store.suppress(entry({ createdAt: T0 + 2, expiresAt: T0 + 2 * DAY }))
    t.equal(
      (await store.activeSuppression('ada@example.com', T0))?.expiresAt,
      T0 + 2 * DAY,
      'extended',
    )
    await store.suppress(entry({ reason: 'complained', expiresAt: null }))
    await store.suppress(entry({ createdAt: T0 + 3, expiresAt: T0 + 9 * DAY }))
    t.match(
      await store.activeSuppression('ada@example.com', T0),
      { reason: 'complained', expiresAt: null },
      'a permanent entry stays permanent',
    )
  })

  t.test('the list: entries in force, by address, in pages; removing lifts one', async (t) => {
    const store = await withStore(t)
    for (const address of ['c@example.com', 'a@example.com', 'b@example.com', 'd@example.com']) {
      await store.suppress(entry({ address, email: address }))
    }
    await store.suppress(entry({ address: 'z@example.com', expiresAt: T0 + 10 }))
    const first = await store.listSuppressions({ now: T0 + 10, limit: 2 })
    t.same(
      first.map((e) => e.address),
      ['a@example.com', 'b@example.com'],
      'by address; an expired entry is not listed',
    )
    const second = await store.listSuppressions({ now: T0 + 10, after: 'b@example.com', limit: 5 })
    t.same(
      second.map((e) => e.address),
      ['c@example.com', 'd@example.com'],
    )
    t.same(second[0], entry({ address: 'c@example.com', email: 'c@example.com' }))
    t.equal(await store.removeSuppression('c@example.com'), true)
    t.equal(await store.removeSuppression('c@example.com'), false, 'once')
    t.equal(await store.removeSuppression(''), false, 'no address: nothing')
    t.equal(await store.activeSuppression('c@example.com', T0 + 10), undefined, 'lifted')
  })

  t.test('report: seq moves on, the inbox pauses, user.reported; sessions stay', async (t) => {
    const store = await withStore(t)
    const { user, session } = await signedIn(store, 'Ada.Lovelace+x@example.com')
    const change = { inbox: 'ada.lovelace@example.com', pausedUntil: T0 + DAY, endSessions: false }
    const reported = await store.report(user.id, user.rev, change, T0 + 5, HOSTED)
    t.match(reported, { id: user.id, seq: user.seq + 1, rev: user.rev, endedSessions: 0 })
    t.same(await store.activeSuppression('ada.lovelace@example.com', T0 + 6), {
      address: 'ada.lovelace@example.com',
      email: 'Ada.Lovelace+x@example.com',
      reason: 'reported',
      createdAt: T0 + 5,
      expiresAt: T0 + DAY,
    })
    t.equal((await store.findSession(session.id))?.session.endedAt, null, 'the session stays')
    const [event] = await store.listEvents({ userId: user.id, type: 'user.reported', limit: 5 })
    t.match(event, {
      type: 'user.reported',
      at: T0 + 5,
      actor: 'hosted',
      ip: '198.51.100.4',
      userAgent: 'Mail/1.0',
      detail: { end_sessions: false, paused_until: T0 + DAY },
    })
    const feed = await store.revocations(undefined, 10)
    t.same(feed.revocations, [], 'nothing for the revocation feed: no rev moved')

    const again = await store.report(user.id, user.rev, change, T0 + 7, HOSTED)
    t.equal(again?.seq, user.seq + 2, 'a second report is harmless: seq moves on again')
  })

  t.test('report with endSessions: the revoke path, reason reported', async (t) => {
    const store = await withStore(t)
    const { user, session } = await signedIn(store)
    const change = { inbox: 'alice@example.com', pausedUntil: T0 + DAY, endSessions: true }
    const reported = await store.report(user.id, user.rev, change, T0 + 5, HOSTED)
    t.match(reported, { seq: user.seq + 1, rev: user.rev + 1, endedSessions: 1 })
    t.match((await store.findSession(session.id))?.session, {
      endedAt: T0 + 5,
      endReason: 'reported',
    })
    const types: string[] = (await store.listEvents({ userId: user.id, limit: 20 })).map(
      (e) => e.type,
    )
    for (const type of ['user.reported', 'user.revoked', 'session.ended']) {
      t.ok(types.includes(type), `records ${type}`)
    }
    // PostgreSQL's feed holds entries back behind any transaction still running on the server,
    // other tests' included (postgres/audit.ts): wait for both before reading them.
    await until(
      async () => (await store.revocations(undefined, 10)).revocations.length === 2,
      'two feed entries',
    )
    const feed = await store.revocations(undefined, 10)
    t.same(
      feed.revocations.map((r) => [r.reason, r.rev, r.sessionId]).sort(),
      [
        ['reported', user.rev + 1, null],
        ['reported', user.rev + 1, session.id],
      ].sort(),
      'the revocation feed announces it',
    )
  })

  t.test('report of a user not as expected changes and writes nothing', async (t) => {
    const store = await withStore(t)
    const { user } = await signedIn(store)
    const change = { inbox: 'alice@example.com', pausedUntil: T0 + DAY, endSessions: true }
    t.equal(await store.report(user.id, user.rev + 1, change, T0 + 1, HOSTED), undefined, 'rev')
    t.equal(await store.report(UNKNOWN_ID, 0, change, T0 + 1, HOSTED), undefined, 'unknown')
    t.equal(await store.report('not-an-id', 0, change, T0 + 1, HOSTED), undefined, 'not an id')
    await store.setStatus(user.id, 'disabled', T0 + 2)
    const disabled = await store.findById(user.id)
    t.equal(
      await store.report(user.id, disabled?.rev ?? 0, change, T0 + 3, HOSTED),
      undefined,
      'disabled',
    )
    t.equal((await store.findById(user.id))?.seq, user.seq, 'seq did not move')
    t.equal(await store.activeSuppression('alice@example.com', T0 + 4), undefined, 'no pause')
    t.same(await store.listEvents({ type: 'user.reported', limit: 5 }), [], 'no event')
  })
}
