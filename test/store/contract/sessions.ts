import type { Test } from 'tap'
import {
  MAX_AGE,
  newSession,
  signedIn,
  T0,
  UNKNOWN_ID,
  UUID_V7,
  type WithStore,
} from './fixtures.js'

/** Sessions, opening and refreshing: opened with the consume, rotated once per expectation. */
export function sessionsContract(t: Test, withStore: WithStore): void {
  t.test('consumeAndOpen consumes and opens one session row', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const opened = await store.consumeAndOpen(user.id, { rev: 0, seq: 0 }, newSession(), T0 + 5)
    const consumed = { ...user, seq: 1, lastLoginAt: T0 + 5 }
    t.match(opened?.session.id, UUID_V7)
    t.strictSame(opened, {
      user: consumed,
      session: {
        id: opened?.session.id,
        userId: user.id,
        client: 'backend',
        createdAt: T0 + 5,
        lastRefreshedAt: null,
        expiresAt: T0 + MAX_AGE,
        refreshSeq: 0,
        endedAt: null,
        endReason: null,
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Grüße',
      },
    })
    t.strictSame(await store.findById(user.id), consumed, 'the consume is stored')
    t.strictSame(await store.findSession(opened?.session.id as string), opened, 'and the session')
    const hosted = await store.consumeAndOpen(
      user.id,
      consumed,
      newSession({ client: 'hosted', ip: null, userAgent: null }),
      T0 + 6,
    )
    t.match(hosted?.session, { client: 'hosted', ip: null, userAgent: null, createdAt: T0 + 6 })
    t.equal(hosted?.user.seq, 2, 'a second consume opens a second session')
    t.equal((await store.listSessions(user.id, { since: T0, limit: 10 })).length, 2)
  })

  t.test('a failed compare opens nothing', async (t) => {
    const store = await withStore(t)
    const { user } = await signedIn(store)
    const attempts = [
      () => store.consumeAndOpen(user.id, { rev: 0, seq: 0 }, newSession(), T0 + 1),
      () => store.consumeAndOpen(user.id, { rev: 1, seq: 1 }, newSession(), T0 + 1),
      () => store.consumeAndOpen(UNKNOWN_ID, { rev: 0, seq: 0 }, newSession(), T0 + 1),
      () => store.touchAndOpen(user.id, 1, newSession(), T0 + 1),
      () => store.touchAndOpen(UNKNOWN_ID, 0, newSession(), T0 + 1),
    ]
    for (const attempt of attempts) t.equal(await attempt(), undefined)
    await store.setStatus(user.id, 'disabled', T0)
    t.equal(await store.consumeAndOpen(user.id, user, newSession(), T0 + 1), undefined, 'disabled')
    t.equal(await store.touchAndOpen(user.id, user.rev, newSession(), T0 + 1), undefined)
    t.equal((await store.listSessions(user.id, { since: T0, limit: 10 })).length, 1)
    t.match(await store.findById(user.id), { seq: 1, lastLoginAt: T0 }, 'nothing changed')
  })

  t.test('touchAndOpen records a login and opens a session; seq stays', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('heidi@example.com', T0)
    const opened = await store.touchAndOpen(user.id, 0, newSession(), T0 + 10)
    t.strictSame(opened?.user, { ...user, lastLoginAt: T0 + 10 })
    t.match(opened?.session, { userId: user.id, createdAt: T0 + 10, refreshSeq: 0 })
    t.ok(await store.touchAndOpen(user.id, 0, newSession(), T0 + 20), 'reusable: again')
    t.equal((await store.listSessions(user.id, { since: T0, limit: 10 })).length, 2)
  })

  t.test('20 concurrent consumeAndOpen of one expectation: exactly one session', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('grace@example.com', T0)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.consumeAndOpen(user.id, { rev: 0, seq: 0 }, newSession(), T0 + i),
      ),
    )
    const winners = results.filter((r) => r !== undefined)
    t.equal(winners.length, 1)
    t.equal((await store.findById(user.id))?.seq, 1, 'seq moved exactly once')
    t.strictSame(
      await store.listSessions(user.id, { since: T0, limit: 100 }),
      winners.map((w) => w.session),
      'and one row was written',
    )
  })

  t.test('rotate moves the refresh sequence once per expectation', async (t) => {
    const store = await withStore(t)
    const { session, user } = await signedIn(store)
    const rotated = await store.rotate(session.id, { rev: 0, refreshSeq: 0 }, T0 + 60_000)
    t.strictSame(rotated, {
      user,
      session: { ...session, refreshSeq: 1, lastRefreshedAt: T0 + 60_000 },
    })
    t.strictSame(await store.findSession(session.id), rotated)
    t.equal(await store.rotate(session.id, { rev: 0, refreshSeq: 0 }, T0 + 60_001), undefined)
    t.equal(await store.rotate(session.id, { rev: 0, refreshSeq: 2 }, T0 + 60_001), undefined)
    t.match(await store.rotate(session.id, { rev: 0, refreshSeq: 1 }, T0 + 60_002), {
      session: { refreshSeq: 2, lastRefreshedAt: T0 + 60_002 },
    })
    t.equal(await store.rotate(UNKNOWN_ID, { rev: 0, refreshSeq: 0 }, T0), undefined)
  })

  t.test('20 concurrent rotates with one expected sequence: exactly one succeeds', async (t) => {
    const store = await withStore(t)
    const { session } = await signedIn(store)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.rotate(session.id, { rev: 0, refreshSeq: 0 }, T0 + 1 + i),
      ),
    )
    t.equal(results.filter(Boolean).length, 1)
    t.equal((await store.findSession(session.id))?.session.refreshSeq, 1)
  })

  t.test('rotate refuses ended, expired, revoked and disabled sessions', async (t) => {
    const store = await withStore(t)
    const expected = { rev: 0, refreshSeq: 0 }

    const ended = (await signedIn(store, 'ended@example.com')).session
    await store.endSession(ended.id, 'logout', T0 + 1)
    t.equal(await store.rotate(ended.id, expected, T0 + 2), undefined, 'ended')

    const expiring = (await signedIn(store, 'expiring@example.com')).session
    t.equal(await store.rotate(expiring.id, expected, T0 + MAX_AGE), undefined, 'at its expiry')
    t.ok(await store.rotate(expiring.id, expected, T0 + MAX_AGE - 1), 'just before it')

    const revoked = await signedIn(store, 'revoked@example.com')
    await store.revoke(revoked.user.id, T0)
    t.equal(await store.rotate(revoked.session.id, expected, T0 + 2), undefined, 'old rev')

    const disabled = await signedIn(store, 'disabled@example.com')
    await store.setStatus(disabled.user.id, 'disabled', T0)
    t.equal(await store.rotate(disabled.session.id, expected, T0 + 2), undefined, 'disabled')

    for (const { id } of [ended, expiring]) {
      t.notOk((await store.findSession(id))?.session.refreshSeq === 2, 'nothing moved')
    }
    t.equal((await store.findSession(revoked.session.id))?.session.refreshSeq, 0)
    t.equal((await store.findSession(disabled.session.id))?.session.refreshSeq, 0)
  })
}
