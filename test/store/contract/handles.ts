import type { Test } from 'tap'
import type { Store } from '../../../src/store/index.js'
import { ids, LEASE, message, newSession, sortedById, T0, type WithHandles } from './fixtures.js'

/** Two handles on one database, as two processes or instances: they agree, and race safely. */
export async function handlesContract(t: Test, withHandles: WithHandles): Promise<void> {
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
    t.equal((await b.revoke(user.id, T0))?.rev, 1)
    t.equal((await a.findById(user.id))?.rev, 1)
    t.equal(await a.consume(user.id, { rev: 0, seq: 0 }, T0 + 1), undefined)
    t.equal(await a.touchLogin(user.id, 0, T0 + 1), undefined)
  })

  t.test('sessions across handles: one opens, one rotates, the other ends', async (t) => {
    const { store: a, another } = await withHandles(t)
    const b = await (another as () => Promise<Store>)()
    const { user } = await a.findOrCreate('alice@example.com', T0)
    const session = newSession()
    const opened = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).consumeAndOpen(user.id, { rev: 0, seq: 0 }, session, T0 + i),
      ),
    )
    const [won] = opened.filter((o) => o !== undefined)
    t.equal(opened.filter(Boolean).length, 1, 'one consume, one session')
    const id = won?.session.id as string
    const rotated = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).rotate(id, { rev: 0, refreshSeq: 0 }, T0 + 100 + i),
      ),
    )
    t.equal(rotated.filter(Boolean).length, 1, 'one rotation')
    t.match(await b.endSession(id, 'admin', T0 + 200), { endReason: 'admin' })
    t.match(await a.findSession(id), { session: { endedAt: T0 + 200, refreshSeq: 1 } })
    t.same(await a.listSessions(user.id, { since: T0, limit: 10 }), [
      (await b.findSession(id))?.session,
    ])
  })

  t.test('a revoke racing consumes leaves no session open', async (t) => {
    const { store: a, another } = await withHandles(t)
    const b = await (another as () => Promise<Store>)()
    const session = newSession()
    for (let round = 0; round < 10; round++) {
      const { user } = await a.findOrCreate(`racer${round}@example.com`, T0)
      await Promise.all([
        ...Array.from({ length: 4 }, (_, i) =>
          (i % 2 ? a : b).consumeAndOpen(user.id, { rev: 0, seq: 0 }, session, T0),
        ),
        (round % 2 ? a : b).revoke(user.id, T0 + 1),
      ])
      const open = (await a.listSessions(user.id, { since: T0, limit: 10 })).filter(
        (s) => s.endedAt === null,
      )
      t.same(open, [], `round ${round}: every session opened with rev 0 has ended`)
    }
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
}
