import type { Test } from 'tap'
import type { UserStatus } from '../../../src/store/users.js'
import { DAY, find, message, T0, UNKNOWN_ID, UUID_V7, type WithStore } from './fixtures.js'

/** Users: lookups, creation, the single-use step, admin changes and pruning. */
export function usersContract(t: Test, withStore: WithStore): void {
  t.test('findOrCreate creates an active user with zeroed counters', async (t) => {
    const store = await withStore(t)
    const { user, created } = await store.findOrCreate('alice@example.com', T0)
    t.equal(created, true)
    t.match(user.id, UUID_V7)
    t.same(user, {
      id: user.id,
      email: 'alice@example.com',
      status: 'active',
      rev: 0,
      seq: 0,
      createdAt: T0,
      lastLoginAt: null,
    })
    t.same(await store.findById(user.id), user)
    t.same(await store.findByEmail('alice@example.com'), user)
  })

  t.test('findByEmail and findOrCreate compare emails case-insensitively', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('bob@example.com', T0)
    t.same(await store.findByEmail('Bob@Example.com'), user)
    t.same(await store.findByEmail('BOB@EXAMPLE.COM'), user)
    const again = await store.findOrCreate('Bob@EXAMPLE.com', T0 + 1)
    t.equal(again.created, false, 'an email differing only in case is the same user')
    t.equal(again.user.id, user.id)
    t.equal(again.user.email, 'bob@example.com', 'the stored email is kept as first given')
    t.equal(await store.findByEmail('bob@example.org'), undefined)
    t.same(await store.list({ limit: 10 }), [user])
  })

  t.test('only ASCII letters fold: other letters are compared exactly', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('Émile@example.com', T0)
    t.same(await store.findByEmail('ÉMILE@EXAMPLE.COM'), user, 'ASCII letters fold')
    t.equal(await store.findByEmail('émile@example.com'), undefined, 'É and é differ')
    const other = await store.findOrCreate('émile@example.com', T0)
    t.equal(other.created, true, 'so they are two users, on every store alike')
  })

  t.test('findOrCreate twice returns the same user, created false', async (t) => {
    const store = await withStore(t)
    const first = await store.findOrCreate('carol@example.com', T0)
    const second = await store.findOrCreate('carol@example.com', T0 + 5_000)
    t.equal(first.created, true)
    t.equal(second.created, false)
    t.same(second.user, first.user, 'createdAt is not overwritten')
  })

  t.test('concurrent findOrCreate of one email yields one user', async (t) => {
    const store = await withStore(t)
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.findOrCreate('dave@example.com', T0 + i)),
    )
    t.equal(new Set(results.map((r) => r.user.id)).size, 1)
    t.equal(results.filter((r) => r.created).length, 1, 'exactly one call created it')
    t.equal((await store.list({ limit: 100 })).length, 1)
  })

  t.test('ids are distinct UUIDv7', async (t) => {
    const store = await withStore(t)
    const ids = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const { user } = await store.findOrCreate(`user${i}@example.com`, T0)
      t.match(user.id, UUID_V7)
      ids.add(user.id)
    }
    t.equal(ids.size, 50)
  })

  t.test('list returns newest first, up to limit', async (t) => {
    const store = await withStore(t)
    t.same(await store.list({ limit: 10 }), [])
    const made = []
    for (let i = 0; i < 5; i++) {
      made.push((await store.findOrCreate(`u${i}@example.com`, T0 + i * 1000)).user)
    }
    const newest = [...made].reverse()
    t.same(await store.list({ limit: 3 }), newest.slice(0, 3))
    t.same(await store.list({ limit: 10 }), newest)
    t.same(await store.list({ limit: 1 }), newest.slice(0, 1))
    await t.rejects(store.list({ limit: 0 }), TypeError)
    await t.rejects(store.list({ limit: -1 }), TypeError)
    await t.rejects(store.list({ limit: 1.5 }), TypeError)
  })

  t.test('consume succeeds once with the expected counters', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('erin@example.com', T0)
    const now = T0 + 60_000
    const consumed = await store.consume(user.id, { rev: 0, seq: 0 }, now)
    t.same(consumed, { ...user, seq: 1, lastLoginAt: now })
    t.same(await store.findById(user.id), consumed, 'the change is stored')
    t.equal(await store.consume(user.id, { rev: 0, seq: 0 }, now + 1), undefined, 'only once')
    const next = await store.consume(user.id, { rev: 0, seq: 1 }, now + 2)
    t.equal(next?.seq, 2, 'a token made after the first login is usable')
    t.equal(next?.lastLoginAt, now + 2)
  })

  t.test('consume refuses stale or future counters and disabled users', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('frank@example.com', T0)
    await store.consume(user.id, { rev: 0, seq: 0 }, T0 + 1)
    await store.revoke(user.id, T0)
    const before = await store.findById(user.id)
    t.match(before, { rev: 1, seq: 1, lastLoginAt: T0 + 1 })

    t.equal(await store.consume(user.id, { rev: 1, seq: 0 }, T0 + 2), undefined, 'stale seq')
    t.equal(await store.consume(user.id, { rev: 1, seq: 2 }, T0 + 2), undefined, 'future seq')
    t.equal(await store.consume(user.id, { rev: 0, seq: 1 }, T0 + 2), undefined, 'stale rev')
    t.equal(await store.consume(user.id, { rev: 2, seq: 1 }, T0 + 2), undefined, 'future rev')
    t.match(await store.setStatus(user.id, 'disabled', T0), { rev: 2 }, 'a disable moves rev')
    t.equal(await store.consume(user.id, { rev: 2, seq: 1 }, T0 + 2), undefined, 'disabled')
    t.equal(await store.consume(UNKNOWN_ID, { rev: 0, seq: 0 }, T0 + 2), undefined, 'unknown')

    const after = await store.findById(user.id)
    t.same(after, { ...before, status: 'disabled', rev: 2 }, 'failed consumes change nothing')
    await store.setStatus(user.id, 'active', T0)
    t.equal(
      await store.consume(user.id, { rev: 1, seq: 1 }, T0 + 3),
      undefined,
      'an enable revives nothing made before the disable',
    )
    t.match(await store.consume(user.id, { rev: 2, seq: 1 }, T0 + 3), { seq: 2 }, 're-enabled')
  })

  t.test('concurrent consumes of one expectation: exactly one wins', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('grace@example.com', T0)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.consume(user.id, { rev: 0, seq: 0 }, T0 + i)),
    )
    const winners = results.filter((r) => r !== undefined)
    t.equal(winners.length, 1)
    t.equal(winners[0]?.seq, 1)
    t.equal((await store.findById(user.id))?.seq, 1, 'seq moved exactly once')
  })

  t.test('touchLogin records a login while rev matches and the user is active', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('heidi@example.com', T0)
    const touched = await store.touchLogin(user.id, 0, T0 + 10)
    t.same(touched, { ...user, lastLoginAt: T0 + 10 }, 'seq does not move')
    t.same(await store.touchLogin(user.id, 0, T0 + 20), { ...user, lastLoginAt: T0 + 20 })
    t.equal(await store.touchLogin(user.id, 1, T0 + 30), undefined, 'wrong rev')
    await store.revoke(user.id, T0)
    t.equal(await store.touchLogin(user.id, 0, T0 + 30), undefined, 'stale rev')
    await store.setStatus(user.id, 'disabled', T0)
    t.equal(await store.touchLogin(user.id, 1, T0 + 30), undefined, 'disabled')
    t.equal(await store.touchLogin(UNKNOWN_ID, 0, T0 + 30), undefined, 'unknown')
    t.equal((await store.findById(user.id))?.lastLoginAt, T0 + 20)
  })

  t.test('revoke increments rev and nothing else', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('ivan@example.com', T0)
    t.same(await store.revoke(user.id, T0), { ...user, rev: 1, endedSessions: 0 })
    t.same(await store.revoke(user.id, T0), { ...user, rev: 2, endedSessions: 0 })
    t.same(await store.findById(user.id), { ...user, rev: 2 })
    await store.setStatus(user.id, 'disabled', T0)
    t.match(await store.revoke(user.id, T0), { rev: 4, status: 'disabled' }, 'disabled users too')
    t.equal(await store.revoke(UNKNOWN_ID, T0), undefined)
  })

  t.test('setStatus disables (moving rev once) and enables (moving nothing back)', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('judy@example.com', T0)
    const disabled = { ...user, status: 'disabled', rev: 1 }
    const none = { endedSessions: 0 }
    t.same(await store.setStatus(user.id, 'disabled', T0), { ...disabled, ...none })
    t.same(await store.findById(user.id), disabled)
    t.same(
      await store.setStatus(user.id, 'disabled', T0),
      { ...disabled, ...none },
      'again: nothing moves',
    )
    const enabled = { ...user, rev: 1 }
    t.same(
      await store.setStatus(user.id, 'active', T0),
      { ...enabled, ...none },
      'rev stays where it is',
    )
    t.same(await store.findById(user.id), enabled)
    t.same(await store.setStatus(user.id, 'active', T0), { ...enabled, ...none })
    t.equal(await store.setStatus(UNKNOWN_ID, 'disabled', T0), undefined)
    await t.rejects(store.setStatus(user.id, 'banned' as UserStatus, T0), TypeError)
    t.same(await store.findById(user.id), enabled)
  })

  t.test('delete removes the user once', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('mallory@example.com', T0)
    const other = (await store.findOrCreate('oscar@example.com', T0)).user
    t.equal(await store.delete(user.id, T0), true)
    t.equal(await store.findById(user.id), undefined)
    t.equal(await store.findByEmail('mallory@example.com'), undefined)
    t.equal(await store.delete(user.id, T0), false)
    t.same(await store.findById(other.id), other, 'other users stay')
    const back = await store.findOrCreate('mallory@example.com', T0 + 1)
    t.equal(back.created, true, 'the email can sign up again')
    t.not(back.user.id, user.id, 'as a new user')
  })

  t.test('unknown ids', async (t) => {
    const store = await withStore(t)
    t.equal(await store.findById(UNKNOWN_ID), undefined)
    t.equal(await store.findByEmail('nobody@example.com'), undefined)
    t.equal(await store.delete(UNKNOWN_ID, T0), false)
    t.equal(await store.findById('not-a-uuid'), undefined, 'a malformed id is just unknown')
  })

  t.test('pruneUnused deletes users nobody used, once unused for the period', async (t) => {
    const store = await withStore(t)
    const CUT = T0 + 31 * DAY
    const user = async (email: string, at = T0) =>
      (await store.findOrCreate(email, at, 'hosted')).user
    const email = async (userId: string, at: number, end: 'pending' | 'sent' | 'failed') => {
      const row = await store.enqueue(message({ userId, now: at }))
      if (end === 'sent') await store.markSent(row.id, at + 1, 'p')
      if (end === 'failed') await store.markFailed(row.id, 'bounce', T0)
      return row
    }
    const unused = await user('unused@example.com')
    const oldMail = await user('old-mail@example.com')
    const oldRow = await email(oldMail.id, T0 + DAY, 'sent')
    const signedIn = await user('signed-in@example.com')
    await store.consume(signedIn.id, { rev: 0, seq: 0 }, T0 + DAY)
    const disabled = await user('disabled@example.com')
    await store.setStatus(disabled.id, 'disabled', T0)
    const pending = await user('pending@example.com')
    await email(pending.id, T0 + DAY, 'pending')
    const recent = await user('recent@example.com')
    await email(recent.id, CUT, 'failed')
    const young = await user('young@example.com', CUT)
    // A backend's user may never sign in (reusable access links record nothing, links it never
    // emails leave no row), and it may keep the id for months: never pruned.
    const backend = (await store.findOrCreate('backend@example.com', T0)).user
    const explicit = (await store.findOrCreate('explicit@example.com', T0, 'api')).user
    t.equal(
      (await store.findOrCreate('backend@example.com', T0, 'hosted')).created,
      false,
      'the form finding a backend user does not change who created it',
    )

    t.same(await store.pruneUnused(T0, 100), { users: 0, phantoms: 0 }, 'nothing is older')
    t.same(await store.pruneUnused(CUT, 100, CUT + 5), { users: 2, phantoms: 0 })
    const deleted = await store.listEvents({ type: 'user.deleted', limit: 10 })
    t.strictSame(
      deleted.map((e) => [e.userId, e.at, e.actor, e.detail]).sort(),
      [
        [unused.id, CUT + 5, 'system', { reason: 'deleted', rev: 0, unused: true }],
        [oldMail.id, CUT + 5, 'system', { reason: 'deleted', rev: 0, unused: true }],
      ].sort(),
      'each recorded as the housekeeping deleted it',
    )
    t.equal(await store.findById(unused.id), undefined, 'never used: deleted')
    t.equal(await store.findById(oldMail.id), undefined, 'emailed long ago, unused: deleted')
    t.notOk(await find(store, oldRow.id), 'its old email row went with it')
    t.ok(await store.findById(signedIn.id), 'signed in once: kept')
    t.ok(await store.findById(disabled.id), 'disabled: kept, so the address cannot come back')
    t.ok(await store.findById(pending.id), 'an email still pending: kept')
    t.ok(await store.findById(recent.id), 'an email since the cut-off: kept')
    t.ok(await store.findById(young.id), 'created at the cut-off: kept')
    t.ok(await store.findById(backend.id), 'created by a backend: kept')
    t.ok(await store.findById(explicit.id), 'created by a backend, said explicitly: kept')
    t.same(await store.pruneUnused(CUT, 100), { users: 0, phantoms: 0 }, 'again: nothing')
    const again = await store.findOrCreate('unused@example.com', CUT + 1)
    t.equal(again.created, true, 'the address is free for a new user')
    t.not(again.user.id, unused.id)
  })

  t.test('pruneUnused takes the oldest users and the longest unused ids first', async (t) => {
    const store = await withStore(t)
    // Created out of id order: ids are minted from the wall clock, created_at is the caller's.
    const middle = (await store.findOrCreate('middle@example.com', T0 + 2, 'hosted')).user
    const oldest = (await store.findOrCreate('oldest@example.com', T0 + 1, 'hosted')).user
    const newest = (await store.findOrCreate('newest@example.com', T0 + 3, 'hosted')).user
    await store.phantomId('a-seen-late', T0 + 3)
    const early = await store.phantomId('z-seen-early', T0 + 1)
    t.same(await store.pruneUnused(T0 + DAY, 1), { users: 1, phantoms: 1 })
    t.equal(await store.findById(oldest.id), undefined, 'the oldest user went')
    t.ok(await store.findById(middle.id))
    t.ok(await store.findById(newest.id))
    t.not(await store.phantomId('z-seen-early', T0 + 4), early, 'the longest unused id went')
    t.same(await store.pruneUnused(T0 + DAY, 1), { users: 1, phantoms: 1 })
    t.equal(await store.findById(middle.id), undefined, 'then the next oldest')
    t.ok(await store.findById(newest.id))
  })
}
