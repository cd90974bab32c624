import type { Test } from 'tap'
import type { NewOutboxMessage, OutboxMessage } from '../../src/users/outbox-store.js'
import type { Store, UserStatus } from '../../src/users/store.js'

/**
 * A fresh, empty store, and how to throw its data away after `close()`. `another`, when the
 * store can have one, opens a second handle on the same data (its own connections), as a second
 * process or instance would.
 */
export type MakeStore = () => Promise<{
  store: Store
  cleanup: () => Promise<void>
  another?: () => Promise<Store>
}>

/** A fresh store for one subtest, closed and cleaned up when that subtest ends. */
type WithStore = (t: Test) => Promise<Store>

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000'
const T0 = 1_700_000_000_000

/**
 * The behaviour every Store must have: users, then the email outbox. Each subtest gets a fresh
 * store from `makeStore`; the suite closes it (twice: close must be idempotent) and then calls
 * `cleanup`.
 */
export function storeContract(t: Test, name: string, makeStore: MakeStore) {
  const withStore: WithStore = async (t) => (await withHandles(t)).store

  /** The store, and a second handle on its data when the store has one (closed first). */
  const withHandles = async (t: Test) => {
    const { store, cleanup, another } = await makeStore()
    const opened: Store[] = []
    t.teardown(async () => {
      for (const other of opened) await other.close()
      await store.close()
      await store.close()
      await cleanup()
    })
    const open = another
      ? async () => {
          const other = await another()
          opened.push(other)
          return other
        }
      : undefined
    return { store, another: open }
  }

  return t.test(`Store contract: ${name}`, async (t) => {
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
      await store.revoke(user.id)
      const before = await store.findById(user.id)
      t.match(before, { rev: 1, seq: 1, lastLoginAt: T0 + 1 })

      t.equal(await store.consume(user.id, { rev: 1, seq: 0 }, T0 + 2), undefined, 'stale seq')
      t.equal(await store.consume(user.id, { rev: 1, seq: 2 }, T0 + 2), undefined, 'future seq')
      t.equal(await store.consume(user.id, { rev: 0, seq: 1 }, T0 + 2), undefined, 'stale rev')
      t.equal(await store.consume(user.id, { rev: 2, seq: 1 }, T0 + 2), undefined, 'future rev')
      await store.setStatus(user.id, 'disabled')
      t.equal(await store.consume(user.id, { rev: 1, seq: 1 }, T0 + 2), undefined, 'disabled')
      t.equal(await store.consume(UNKNOWN_ID, { rev: 0, seq: 0 }, T0 + 2), undefined, 'unknown')

      const after = await store.findById(user.id)
      t.same(after, { ...before, status: 'disabled' }, 'failed consumes change nothing')
      await store.setStatus(user.id, 'active')
      t.match(await store.consume(user.id, { rev: 1, seq: 1 }, T0 + 3), { seq: 2 }, 're-enabled')
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
      await store.revoke(user.id)
      t.equal(await store.touchLogin(user.id, 0, T0 + 30), undefined, 'stale rev')
      await store.setStatus(user.id, 'disabled')
      t.equal(await store.touchLogin(user.id, 1, T0 + 30), undefined, 'disabled')
      t.equal(await store.touchLogin(UNKNOWN_ID, 0, T0 + 30), undefined, 'unknown')
      t.equal((await store.findById(user.id))?.lastLoginAt, T0 + 20)
    })

    t.test('revoke increments rev and nothing else', async (t) => {
      const store = await withStore(t)
      const { user } = await store.findOrCreate('ivan@example.com', T0)
      t.same(await store.revoke(user.id), { ...user, rev: 1 })
      t.same(await store.revoke(user.id), { ...user, rev: 2 })
      t.same(await store.findById(user.id), { ...user, rev: 2 })
      await store.setStatus(user.id, 'disabled')
      t.match(await store.revoke(user.id), { rev: 3, status: 'disabled' }, 'disabled users too')
      t.equal(await store.revoke(UNKNOWN_ID), undefined)
    })

    t.test('setStatus disables and enables', async (t) => {
      const store = await withStore(t)
      const { user } = await store.findOrCreate('judy@example.com', T0)
      t.same(await store.setStatus(user.id, 'disabled'), { ...user, status: 'disabled' })
      t.equal((await store.findById(user.id))?.status, 'disabled')
      t.same(await store.setStatus(user.id, 'disabled'), { ...user, status: 'disabled' })
      t.same(await store.setStatus(user.id, 'active'), user)
      t.same(await store.findById(user.id), user)
      t.equal(await store.setStatus(UNKNOWN_ID, 'disabled'), undefined)
      await t.rejects(store.setStatus(user.id, 'banned' as UserStatus), TypeError)
      t.same(await store.findById(user.id), user)
    })

    t.test('delete removes the user once', async (t) => {
      const store = await withStore(t)
      const { user } = await store.findOrCreate('mallory@example.com', T0)
      const other = (await store.findOrCreate('oscar@example.com', T0)).user
      t.equal(await store.delete(user.id), true)
      t.equal(await store.findById(user.id), undefined)
      t.equal(await store.findByEmail('mallory@example.com'), undefined)
      t.equal(await store.delete(user.id), false)
      t.same(await store.findById(other.id), other, 'other users stay')
      const back = await store.findOrCreate('mallory@example.com', T0 + 1)
      t.equal(back.created, true, 'the email can sign up again')
      t.not(back.user.id, user.id, 'as a new user')
    })

    t.test('unknown ids', async (t) => {
      const store = await withStore(t)
      t.equal(await store.findById(UNKNOWN_ID), undefined)
      t.equal(await store.findByEmail('nobody@example.com'), undefined)
      t.equal(await store.delete(UNKNOWN_ID), false)
      t.equal(await store.findById('not-a-uuid'), undefined, 'a malformed id is just unknown')
    })

    t.test('ping resolves while open and rejects once closed', async (t) => {
      const store = await withStore(t)
      await t.resolves(store.ping())
      await store.close()
      await t.rejects(store.ping())
    })

    t.test('phantomId: one stable UUIDv7 per key, minted on first use', async (t) => {
      const store = await withStore(t)
      const a = await store.phantomId('key-a', T0)
      t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      t.equal(await store.phantomId('key-a', T0 + 1000), a, 'the same key, the same id')
      t.not(await store.phantomId('key-b', T0), a, 'another key, another id')
      const ids = await Promise.all(Array.from({ length: 10 }, () => store.phantomId('key-c', T0)))
      t.equal(new Set(ids).size, 1, 'concurrent first uses agree')
      t.equal(await store.findById(a), undefined, 'a phantom is not a user')
    })

    t.test('pruneUnused deletes users nobody used, once unused for the period', async (t) => {
      const store = await withStore(t)
      const CUT = T0 + 31 * DAY
      const user = async (email: string, at = T0) =>
        (await store.findOrCreate(email, at, 'hosted')).user
      const email = async (userId: string, at: number, end: 'pending' | 'sent' | 'failed') => {
        const row = await store.enqueue(message({ userId, now: at }))
        if (end === 'sent') await store.markSent(row.id, at + 1, 'p')
        if (end === 'failed') await store.markFailed(row.id, 'bounce')
        return row
      }
      const unused = await user('unused@example.com')
      const oldMail = await user('old-mail@example.com')
      const oldRow = await email(oldMail.id, T0 + DAY, 'sent')
      const signedIn = await user('signed-in@example.com')
      await store.consume(signedIn.id, { rev: 0, seq: 0 }, T0 + DAY)
      const disabled = await user('disabled@example.com')
      await store.setStatus(disabled.id, 'disabled')
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
      t.same(await store.pruneUnused(CUT, 100), { users: 2, phantoms: 0 })
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

    t.test('pruneUnused deletes stand-in ids not asked for in the period', async (t) => {
      const store = await withStore(t)
      const CUT = T0 + 31 * DAY
      const idle = await store.phantomId('idle', T0)
      const busy = await store.phantomId('busy', T0)
      t.equal(await store.phantomId('busy', CUT), busy, 'asked for again at the cut-off')
      const young = await store.phantomId('young', CUT)
      t.same(await store.pruneUnused(CUT, 100), { users: 0, phantoms: 1 })
      t.equal(await store.phantomId('busy', CUT + 1), busy, 'one still asked for keeps its id')
      t.equal(await store.phantomId('young', CUT + 1), young)
      t.not(await store.phantomId('idle', CUT + 1), idle, 'an idle one was forgotten')
      // An older request arriving late (another instance's clock) does not make one look idle.
      await store.phantomId('busy', T0)
      t.same(await store.pruneUnused(CUT, 100), { users: 0, phantoms: 0 })
    })

    t.test('pruneUnused deletes at most limit of each per call', async (t) => {
      const store = await withStore(t)
      for (let i = 0; i < 5; i++) {
        await store.findOrCreate(`u${i}@example.com`, T0, 'hosted')
        await store.phantomId(`p${i}`, T0)
      }
      const counts = []
      for (let i = 0; i < 4; i++) counts.push(await store.pruneUnused(T0 + DAY, 2))
      t.same(counts, [
        { users: 2, phantoms: 2 },
        { users: 2, phantoms: 2 },
        { users: 1, phantoms: 1 },
        { users: 0, phantoms: 0 },
      ])
      await t.rejects(store.pruneUnused(T0, 0), TypeError, 'limit 0')
      await t.rejects(store.pruneUnused(-1, 1), TypeError, 'a negative time')
    })

    t.test('OutboxStore', async (t) => outboxContract(t, withStore))

    t.test('two handles on one database', async (t) => {
      const probe = await withHandles(t)
      if (!probe.another) {
        t.pass('this store has no second handle (one private database per handle)')
        return
      }
      await probe.store.close()

      t.test('a user made on one is the same user on the other', async (t) => {
        const { store: a, another } = await withHandles(t)
        const b = await (another as () => Promise<Store>)()
        const { user } = await a.findOrCreate('alice@example.com', T0)
        t.same(await b.findById(user.id), user)
        const again = await b.findOrCreate('ALICE@example.com', T0 + 1)
        t.equal(again.created, false)
        t.equal(again.user.id, user.id)
      })

      t.test('concurrent consumes across handles: exactly one wins', async (t) => {
        const { store: a, another } = await withHandles(t)
        const b = await (another as () => Promise<Store>)()
        const { user } = await a.findOrCreate('alice@example.com', T0)
        const expected = { rev: 0, seq: 0 }
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume(user.id, expected, T0 + i)),
        )
        t.equal(results.filter(Boolean).length, 1)
        t.equal((await a.findById(user.id))?.seq, 1)
      })

      t.test('a revoke through one is seen by the other at once', async (t) => {
        const { store: a, another } = await withHandles(t)
        const b = await (another as () => Promise<Store>)()
        const { user } = await a.findOrCreate('alice@example.com', T0)
        t.equal((await b.revoke(user.id))?.rev, 1)
        t.equal((await a.findById(user.id))?.rev, 1)
        t.equal(await a.consume(user.id, { rev: 0, seq: 0 }, T0 + 1), undefined)
        t.equal(await a.touchLogin(user.id, 0, T0 + 1), undefined)
      })

      t.test('due outbox rows are claimed once across handles', async (t) => {
        const { store: a, another } = await withHandles(t)
        const b = await (another as () => Promise<Store>)()
        const made = []
        for (let i = 0; i < 8; i++) {
          made.push(await (i % 2 ? a : b).enqueue(message({ payload: { i }, now: T0 + i })))
        }
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimDue(T0 + 10, LEASE, 3)),
        )
        const claimed = results.flat()
        t.same(ids(sortedById(claimed)), ids(made), 'each row once, across handles')
        for (const row of claimed) t.equal(row.attempts, 1)
      })

      t.test('data outlives the handle that wrote it', async (t) => {
        const { store: a, another } = await withHandles(t)
        const { user } = await a.findOrCreate('alice@example.com', T0)
        await a.consume(user.id, { rev: 0, seq: 0 }, T0 + 1)
        const row = await a.enqueue(message({ userId: user.id }))
        await a.close()
        const b = await (another as () => Promise<Store>)()
        t.same(await b.findById(user.id), { ...user, seq: 1, lastLoginAt: T0 + 1 })
        t.strictSame(await b.listOutbox({ limit: 10 }), [row])
        await t.resolves(b.migrate(), 'migrating again finds nothing to do')
      })
    })
  })
}

const LEASE = 60_000
const DAY = 86_400_000

/** A payload that exercises the JSON round trip: nesting, every JSON type, unicode, escapes. */
const PAYLOAD = {
  kind: 'sign-in',
  token: { purpose: 'login', rev: 0, seq: 3, exp: T0 + 900_000, reusable: false },
  context: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', locale: 'de-CH' },
  greeting: 'Grüße, Zoë! 日本語 · ελληνικά · עברית · 🔑✉️',
  escapes: 'line\nbreak\ttab "quoted" \\ back\\slash </script>',
  values: [1, -2, 2.5, 0, true, false, null, '', [[[]]], {}],
  nested: { a: { b: { c: { d: ['deep', { e: 'ü' }] } } } },
}

const message = (overrides: Partial<NewOutboxMessage> = {}): NewOutboxMessage => ({
  userId: null,
  recipient: 'someone@example.com',
  payload: { kind: 'sign-in' },
  status: 'pending',
  now: T0,
  ...overrides,
})

const ids = (rows: readonly OutboxMessage[]): string[] => rows.map((m) => m.id)
const sortedById = (rows: readonly OutboxMessage[]): OutboxMessage[] =>
  [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/** One row as stored, through the public API only. */
const find = async (store: Store, id: string): Promise<OutboxMessage | undefined> =>
  (await store.listOutbox({ limit: 1000 })).find((m) => m.id === id)

/**
 * The outbox half of the contract. Rows are compared with strictSame: a networked driver that
 * hands back bigint columns or counts as strings must convert them.
 */
function outboxContract(t: Test, withStore: WithStore) {
  t.test('enqueue returns the stored row, which is listed', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const pending = await store.enqueue(
      message({ userId: user.id, recipient: 'alice@example.com', payload: PAYLOAD }),
    )
    t.match(pending.id, UUID_V7)
    t.strictSame(pending, {
      id: pending.id,
      userId: user.id,
      recipient: 'alice@example.com',
      payload: PAYLOAD,
      status: 'pending',
      reason: null,
      attempts: 0,
      nextAttemptAt: T0,
      lastError: null,
      createdAt: T0,
      sentAt: null,
      providerId: null,
    })

    const suppressed = await store.enqueue(
      message({
        recipient: 'nobody@example.com',
        status: 'suppressed',
        reason: 'unknown_address',
        now: T0 + 1,
      }),
    )
    t.match(suppressed.id, UUID_V7)
    t.not(suppressed.id, pending.id)
    t.strictSame(suppressed, {
      id: suppressed.id,
      userId: null,
      recipient: 'nobody@example.com',
      payload: { kind: 'sign-in' },
      status: 'suppressed',
      reason: 'unknown_address',
      attempts: 0,
      nextAttemptAt: T0 + 1,
      lastError: null,
      createdAt: T0 + 1,
      sentAt: null,
      providerId: null,
    })

    t.strictSame(await store.listOutbox({ limit: 10 }), [suppressed, pending], 'both are stored')
  })

  t.test('payloads of any JSON shape round-trip', async (t) => {
    const store = await withStore(t)
    const payloads: unknown[] = [
      PAYLOAD,
      [PAYLOAD, [1, [2, [3]]]],
      'just a string: ✓ 😀',
      { empty: {}, list: [], text: '' },
    ]
    const made = []
    for (const [i, payload] of payloads.entries()) {
      const row = await store.enqueue(message({ payload, now: T0 + i }))
      t.strictSame(row.payload, payload, `enqueue returns payload ${i}`)
      made.push(row)
    }
    const stored = await store.listOutbox({ limit: 10 })
    t.strictSame(
      stored.map((m) => m.payload),
      [...payloads].reverse(),
      'and so does listOutbox',
    )
    t.equal(new Set(ids(made)).size, payloads.length, 'ids are distinct')
  })

  t.test('claimDue leases due pending rows, oldest due first, at most limit', async (t) => {
    const store = await withStore(t)
    const a = await store.enqueue(message({ recipient: 'a@example.com', now: T0 }))
    t.strictSame(await store.claimDue(T0, LEASE, 10), [
      { ...a, attempts: 1, nextAttemptAt: T0 + LEASE },
    ])
    // a's first attempt failed; it is due again after b and c but before d, so "oldest due" and
    // "oldest created" (id order) disagree.
    await store.markRetry(a.id, T0 + 25, 'timeout')
    const b = await store.enqueue(message({ recipient: 'b@example.com', now: T0 + 10 }))
    const c = await store.enqueue(message({ recipient: 'c@example.com', now: T0 + 20 }))
    const d = await store.enqueue(message({ recipient: 'd@example.com', now: T0 + 30 }))
    const later = await store.enqueue(message({ recipient: 'e@example.com', now: T0 + 1_000 }))

    const now = T0 + 100
    const first = await store.claimDue(now, LEASE, 3)
    t.same(ids(sortedById(first)), ids(sortedById([a, b, c])), 'the 3 due longest are claimed')
    t.same(ids(first), [b.id, c.id, a.id], 'returned oldest due first')
    t.strictSame(
      sortedById(first),
      sortedById([
        { ...a, attempts: 2, nextAttemptAt: now + LEASE, lastError: 'timeout' },
        { ...b, attempts: 1, nextAttemptAt: now + LEASE },
        { ...c, attempts: 1, nextAttemptAt: now + LEASE },
      ]),
      'each claimed row: attempts + 1, nextAttemptAt = now + lease',
    )
    for (const row of first) t.strictSame(await find(store, row.id), row, 'the lease is stored')

    t.strictSame(
      await store.claimDue(now, LEASE, 10),
      [{ ...d, attempts: 1, nextAttemptAt: now + LEASE }],
      'the next claim gets what is still due',
    )
    t.strictSame(await store.claimDue(now, LEASE, 10), [], 'every due row is leased')
    t.strictSame(await store.claimDue(T0 + 999, LEASE, 10), [], 'nothing before nextAttemptAt')
    t.strictSame(
      await store.claimDue(T0 + 1_000, LEASE, 10),
      [{ ...later, attempts: 1, nextAttemptAt: T0 + 1_000 + LEASE }],
      'due exactly at nextAttemptAt',
    )
  })

  t.test('a claimed row comes back when its lease runs out', async (t) => {
    const store = await withStore(t)
    const m = await store.enqueue(message())
    const leased = { ...m, attempts: 1, nextAttemptAt: T0 + LEASE }
    t.strictSame(await store.claimDue(T0, LEASE, 10), [leased])
    t.strictSame(await store.claimDue(T0, LEASE, 10), [], 'a second claim at once gets nothing')
    t.strictSame(await store.claimDue(T0 + LEASE - 1, LEASE, 10), [], 'nor while the lease runs')
    // The worker died without a result: the row is due again once the lease has passed.
    const again = { ...m, attempts: 2, nextAttemptAt: T0 + 2 * LEASE }
    t.strictSame(await store.claimDue(T0 + LEASE, LEASE, 10), [again], 'claimable again')
    t.strictSame(await find(store, m.id), again, 'still pending, attempts counted')
  })

  t.test('claimDue respects limit', async (t) => {
    const store = await withStore(t)
    const made = []
    for (let i = 0; i < 5; i++) made.push(await store.enqueue(message({ now: T0 + i })))
    const first = await store.claimDue(T0 + 10, LEASE, 2)
    t.same(ids(first), ids(made.slice(0, 2)))
    const second = await store.claimDue(T0 + 10, LEASE, 2)
    t.same(ids(second), ids(made.slice(2, 4)))
    const third = await store.claimDue(T0 + 10, LEASE, 2)
    t.same(ids(third), ids(made.slice(4)))
    t.strictSame(await store.claimDue(T0 + 10, LEASE, 2), [])
  })

  t.test('rows that are not pending are never claimed', async (t) => {
    const store = await withStore(t)
    await store.enqueue(message({ status: 'suppressed', reason: 'user_disabled' }))
    const sent = await store.enqueue(message({ now: T0 + 1 }))
    const failed = await store.enqueue(message({ now: T0 + 2 }))
    t.equal((await store.claimDue(T0 + 2, LEASE, 10)).length, 2)
    await store.markSent(sent.id, T0 + 3, 'provider-1')
    await store.markFailed(failed.id, 'hard bounce')
    t.strictSame(await store.claimDue(T0 + 1_000 * DAY, LEASE, 10), [], 'however late it is')
    t.strictSame(await store.countOutbox(), { pending: 0, sent: 1, failed: 1, suppressed: 1 })
  })

  t.test('concurrent claims never hand one row out twice', async (t) => {
    const store = await withStore(t)
    const made = []
    for (let i = 0; i < 5; i++) made.push(await store.enqueue(message({ now: T0 + i })))
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.claimDue(T0 + 10, LEASE, 5)),
    )
    const claimed = results.flat()
    t.equal(claimed.length, 5, 'every due row is handed out')
    t.same(ids(sortedById(claimed)), ids(made), 'each exactly once')
    for (const row of claimed) t.equal(row.attempts, 1, 'claimed once')
  })

  t.test('markSent records the delivery and clears lastError', async (t) => {
    const store = await withStore(t)
    const m = await store.enqueue(message())
    await store.claimDue(T0, LEASE, 10)
    await store.markRetry(m.id, T0 + 1_000, 'connection reset')
    await store.claimDue(T0 + 1_000, LEASE, 10)
    await store.markSent(m.id, T0 + 1_500, 'provider-123')
    t.strictSame(await find(store, m.id), {
      ...m,
      status: 'sent',
      attempts: 2,
      nextAttemptAt: T0 + 1_000 + LEASE,
      lastError: null,
      sentAt: T0 + 1_500,
      providerId: 'provider-123',
    })

    const anonymous = await store.enqueue(message({ now: T0 + 2_000 }))
    await store.claimDue(T0 + 2_000, LEASE, 10)
    await store.markSent(anonymous.id, T0 + 2_001, null)
    t.strictSame(
      await find(store, anonymous.id),
      {
        ...anonymous,
        status: 'sent',
        attempts: 1,
        nextAttemptAt: T0 + 2_000 + LEASE,
        sentAt: T0 + 2_001,
        providerId: null,
      },
      'a provider id is optional',
    )
  })

  t.test('markRetry keeps the row pending, due later, with the error', async (t) => {
    const store = await withStore(t)
    const m = await store.enqueue(message())
    t.equal((await store.claimDue(T0, LEASE, 10)).length, 1)
    await store.markRetry(m.id, T0 + 5_000, 'provider said 503')
    const retried = { ...m, attempts: 1, nextAttemptAt: T0 + 5_000, lastError: 'provider said 503' }
    t.strictSame(await find(store, m.id), retried)
    t.strictSame(await store.claimDue(T0 + 4_999, LEASE, 10), [], 'not before the new due time')
    t.strictSame(
      await store.claimDue(T0 + 5_000, LEASE, 10),
      [{ ...retried, attempts: 2, nextAttemptAt: T0 + 5_000 + LEASE }],
      'then claimed again, the last error still visible',
    )
  })

  t.test('markFailed gives up on the row', async (t) => {
    const store = await withStore(t)
    const m = await store.enqueue(message())
    await store.claimDue(T0, LEASE, 10)
    await store.markFailed(m.id, 'hard bounce: mailbox does not exist')
    t.strictSame(await find(store, m.id), {
      ...m,
      status: 'failed',
      attempts: 1,
      nextAttemptAt: T0 + LEASE,
      lastError: 'hard bounce: mailbox does not exist',
    })
  })

  t.test('markSuppressed ends the row as suppressed, with why', async (t) => {
    const store = await withStore(t)
    const m = await store.enqueue(message())
    await store.claimDue(T0, LEASE, 10)
    await store.markSuppressed(m.id, 'unknown_address')
    t.strictSame(await find(store, m.id), {
      ...m,
      status: 'suppressed',
      reason: 'unknown_address',
      attempts: 1,
      nextAttemptAt: T0 + LEASE,
    })
    t.strictSame(await store.claimDue(T0 + 1_000 * DAY, LEASE, 10), [], 'never due again')
    t.strictSame(await store.countOutbox(), { pending: 0, sent: 0, failed: 0, suppressed: 1 })
  })

  t.test('a result for a row that is no longer pending changes nothing', async (t) => {
    const store = await withStore(t)
    const failed = await store.enqueue(message({ now: T0 }))
    const sent = await store.enqueue(message({ now: T0 + 1 }))
    const suppressed = await store.enqueue(
      message({ status: 'suppressed', reason: 'unknown_address', now: T0 + 2 }),
    )
    await store.claimDue(T0 + 2, LEASE, 10)
    await store.markFailed(failed.id, 'gave up')
    await store.markSent(sent.id, T0 + 3, 'provider-1')
    const before = await store.listOutbox({ limit: 10 })
    t.match(before, [{ status: 'suppressed' }, { status: 'sent' }, { status: 'failed' }])

    for (const row of [failed, sent, suppressed]) {
      await store.markSent(row.id, T0 + 10, 'late-provider-id')
      await store.markRetry(row.id, T0 + 20, 'late retry')
      await store.markFailed(row.id, 'late failure')
      await store.markSuppressed(row.id, 'user_disabled')
    }
    t.strictSame(await store.listOutbox({ limit: 10 }), before, 'late results are ignored')

    await t.resolves(store.markSent(UNKNOWN_ID, T0, null), 'unknown ids are ignored')
    await t.resolves(store.markRetry(UNKNOWN_ID, T0, 'x'))
    await t.resolves(store.markFailed(UNKNOWN_ID, 'x'))
    await t.resolves(store.markSuppressed(UNKNOWN_ID, 'x'))
    t.strictSame(await store.listOutbox({ limit: 10 }), before)
  })

  t.test('listOutbox filters by status and user, newest first, up to limit', async (t) => {
    const store = await withStore(t)
    t.strictSame(await store.listOutbox({ limit: 10 }), [], 'empty at first')
    const alice = (await store.findOrCreate('alice@example.com', T0)).user
    const bob = (await store.findOrCreate('bob@example.com', T0)).user
    const specs: [string | null, 'pending' | 'suppressed'][] = [
      [alice.id, 'pending'],
      [bob.id, 'pending'],
      [null, 'suppressed'],
      [alice.id, 'suppressed'],
      [alice.id, 'pending'],
      [bob.id, 'pending'],
      [null, 'pending'],
      [alice.id, 'pending'],
    ]
    const made: OutboxMessage[] = []
    for (const [i, [userId, status]] of specs.entries()) {
      const reason = status === 'suppressed' ? 'user_disabled' : null
      made.push(await store.enqueue(message({ userId, status, reason, now: T0 + i * 1_000 })))
    }
    const [m0, m1, , m3, m4, m5, , m7] = made
    if (!m0 || !m1 || !m3 || !m4 || !m5 || !m7) throw new Error('unreachable')
    await store.markSent(m1.id, T0 + 10_000, 'provider-1')
    await store.markFailed(m5.id, 'hard bounce')
    await store.markSent(m7.id, T0 + 10_000, 'provider-7')

    const all = await store.listOutbox({ limit: 100 })
    t.same(ids(all), ids(made).reverse(), 'newest first')
    const byStatus = (s: string) => all.filter((m) => m.status === s)
    t.same(ids(byStatus('sent')), [m7.id, m1.id])
    t.same(ids(byStatus('failed')), [m5.id])

    for (const status of ['pending', 'sent', 'failed', 'suppressed'] as const) {
      t.strictSame(await store.listOutbox({ status, limit: 100 }), byStatus(status), status)
    }
    t.strictSame(
      await store.listOutbox({ userId: alice.id, limit: 100 }),
      all.filter((m) => m.userId === alice.id),
      "one user's messages",
    )
    t.same(ids(await store.listOutbox({ userId: alice.id, limit: 100 })), [
      m7.id,
      m4.id,
      m3.id,
      m0.id,
    ])
    t.same(
      ids(await store.listOutbox({ userId: alice.id, status: 'pending', limit: 100 })),
      [m4.id, m0.id],
      'both filters at once',
    )
    t.same(ids(await store.listOutbox({ status: 'failed', userId: alice.id, limit: 100 })), [])
    t.strictSame(await store.listOutbox({ userId: UNKNOWN_ID, limit: 100 }), [], 'unknown user')
    t.strictSame(
      await store.listOutbox({ status: undefined, userId: undefined, limit: 100 }),
      all,
      'undefined filters are no filters',
    )

    t.strictSame(await store.listOutbox({ limit: 3 }), all.slice(0, 3), 'limit')
    t.strictSame(await store.listOutbox({ limit: 1 }), all.slice(0, 1))
    t.strictSame(
      await store.listOutbox({ userId: bob.id, limit: 1 }),
      all.filter((m) => m.userId === bob.id).slice(0, 1),
      'limit after filtering',
    )
  })

  t.test('listOutbox pages backwards with before, without overlap or gap', async (t) => {
    const store = await withStore(t)
    const made: OutboxMessage[] = []
    for (let i = 0; i < 12; i++) {
      const status = i % 3 === 0 ? 'suppressed' : 'pending'
      made.push(await store.enqueue(message({ status, now: T0 + i * 1_000 })))
    }
    const all = await store.listOutbox({ limit: 100 })
    t.same(ids(all), ids(made).reverse())

    const pageThrough = async (query: { status?: 'pending'; limit: number }) => {
      const pages: OutboxMessage[][] = []
      let before: string | undefined
      // Bounded: a `before` that does not move the cursor must fail the test, not hang it.
      for (let i = 0; i < 20; i++) {
        const page = await store.listOutbox({ ...query, before })
        pages.push(page)
        const last = page.at(-1)
        if (!last) break
        before = last.id
      }
      return pages
    }

    const pages = await pageThrough({ limit: 5 })
    t.same(
      pages.map((p) => p.length),
      [5, 5, 2, 0],
      'full pages, then the rest, then nothing',
    )
    t.strictSame(pages.flat(), all, 'together: every row once, in order')

    const pendingPages = await pageThrough({ status: 'pending', limit: 3 })
    t.same(
      pendingPages.map((p) => p.length),
      [3, 3, 2, 0],
    )
    t.strictSame(
      pendingPages.flat(),
      all.filter((m) => m.status === 'pending'),
      'paging combines with a filter',
    )

    const middle = made[6]
    if (!middle) throw new Error('unreachable')
    t.strictSame(
      await store.listOutbox({ before: middle.id, limit: 100 }),
      all.filter((m) => m.id < middle.id),
      'before is exclusive',
    )
    t.strictSame(await store.listOutbox({ before: made[0]?.id, limit: 100 }), [], 'oldest row')
  })

  t.test('countOutbox counts every status, zeros included', async (t) => {
    const store = await withStore(t)
    t.strictSame(await store.countOutbox(), { pending: 0, sent: 0, failed: 0, suppressed: 0 })
    const rows = []
    for (let i = 0; i < 5; i++) rows.push(await store.enqueue(message({ now: T0 + i })))
    const [a, b, c] = rows
    if (!a || !b || !c) throw new Error('unreachable')
    await store.markSent(a.id, T0 + 10, 'p')
    await store.markSent(b.id, T0 + 10, null)
    await store.markFailed(c.id, 'bounce')
    t.strictSame(await store.countOutbox(), { pending: 2, sent: 2, failed: 1, suppressed: 0 })
    await store.enqueue(message({ status: 'suppressed', reason: 'unknown_address', now: T0 + 5 }))
    t.strictSame(await store.countOutbox(), { pending: 2, sent: 2, failed: 1, suppressed: 1 })
  })

  t.test('pruneOutbox deletes finished rows created before the cut-off', async (t) => {
    const store = await withStore(t)
    const enqueueAs = async (now: number, end: 'pending' | 'sent' | 'failed' | 'suppressed') => {
      const status = end === 'suppressed' ? 'suppressed' : 'pending'
      const row = await store.enqueue(message({ status, now }))
      if (end === 'sent') await store.markSent(row.id, now + 1, 'p')
      if (end === 'failed') await store.markFailed(row.id, 'bounce')
      return row
    }
    const oldPending = await enqueueAs(T0, 'pending')
    await enqueueAs(T0 + 1, 'sent')
    await enqueueAs(T0 + 2, 'failed')
    await enqueueAs(T0 + 3, 'suppressed')
    const oldRetried = await enqueueAs(T0 + 4, 'pending')
    await store.claimDue(T0 + 5, LEASE, 10)
    await store.markRetry(oldRetried.id, T0 + 1_000 * DAY, 'still failing')
    const atCut = await enqueueAs(T0 + DAY, 'sent')
    const newPending = await enqueueAs(T0 + DAY + 1, 'pending')
    const newSuppressed = await enqueueAs(T0 + DAY + 2, 'suppressed')

    t.equal(await store.pruneOutbox(T0), 0, 'nothing is older than the first row')
    t.equal(await store.pruneOutbox(T0 + DAY), 3, 'the old sent, failed and suppressed rows')
    t.same(
      ids(await store.listOutbox({ limit: 100 })),
      [newSuppressed.id, newPending.id, atCut.id, oldRetried.id, oldPending.id],
      'a row created at the cut-off stays; pending rows stay whatever their age',
    )
    t.equal(await store.pruneOutbox(T0 + DAY), 0, 'pruning again finds nothing')
    t.equal(await store.pruneOutbox(T0 + 1_000 * DAY), 2)
    t.same(ids(await store.listOutbox({ limit: 100 })), [
      newPending.id,
      oldRetried.id,
      oldPending.id,
    ])
    t.strictSame(await store.countOutbox(), { pending: 3, sent: 0, failed: 0, suppressed: 0 })
  })

  t.test("deleting a user deletes that user's outbox rows", async (t) => {
    const store = await withStore(t)
    const alice = (await store.findOrCreate('alice@example.com', T0)).user
    const bob = (await store.findOrCreate('bob@example.com', T0)).user
    const aliceRows = [
      await store.enqueue(message({ userId: alice.id, now: T0 })),
      await store.enqueue(message({ userId: alice.id, now: T0 + 1 })),
      await store.enqueue(
        message({ userId: alice.id, status: 'suppressed', reason: 'user_disabled', now: T0 + 2 }),
      ),
    ]
    await store.markSent(aliceRows[1]?.id ?? '', T0 + 3, 'p')
    await store.enqueue(message({ userId: bob.id, now: T0 + 4 }))
    await store.enqueue(message({ userId: null, recipient: 'alice@example.com', now: T0 + 5 }))
    await store.enqueue(
      message({ userId: null, status: 'suppressed', reason: 'unknown_address', now: T0 + 6 }),
    )
    const before = await store.listOutbox({ limit: 100 })
    t.equal(before.length, 6)

    t.equal(await store.delete(alice.id), true)
    t.strictSame(await store.listOutbox({ userId: alice.id, limit: 100 }), [])
    t.strictSame(
      await store.listOutbox({ limit: 100 }),
      before.filter((m) => m.userId !== alice.id),
      "other users' rows and rows without a user are untouched",
    )
    t.strictSame(await store.countOutbox(), { pending: 2, sent: 0, failed: 0, suppressed: 1 })
  })
}
