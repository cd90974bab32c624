import type { Test } from 'tap'
import type { OutboxMessage } from '../../../src/store/outbox.js'
import {
  DAY,
  enqueueSuppressed,
  ids,
  LEASE,
  message,
  T0,
  UNKNOWN_ID,
  type WithStore,
} from './fixtures.js'

/** The outbox as an operator sees it: listing, paging, counting, pruning. */
export function outboxListingContract(t: Test, withStore: WithStore): void {
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
      const seed = { userId, now: T0 + i * 1_000 }
      made.push(
        status === 'suppressed'
          ? await enqueueSuppressed(store, 'user_disabled', seed)
          : await store.enqueue(message(seed)),
      )
    }
    const [m0, m1, , m3, m4, m5, , m7] = made
    if (!m0 || !m1 || !m3 || !m4 || !m5 || !m7) throw new Error('unreachable')
    await store.markSent(m1.id, T0 + 10_000, 'provider-1')
    await store.markFailed(m5.id, 'hard bounce', T0)
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

  t.test('listOutbox filters by kind, with the other filters', async (t) => {
    const store = await withStore(t)
    const email = await store.enqueue(message({ now: T0 }))
    const hook = { kind: 'webhook', recipient: 'https://hooks.example/in' }
    const w1 = await store.enqueue(message({ ...hook, now: T0 + 1 }))
    const w2 = await store.enqueue(message({ ...hook, now: T0 + 2 }))
    await store.markFailed(w1.id, 'the receiver answered 500', T0 + 3)
    t.same(ids(await store.listOutbox({ kind: 'webhook', limit: 10 })), [w2.id, w1.id])
    t.same(ids(await store.listOutbox({ kind: 'email', limit: 10 })), [email.id])
    t.same(ids(await store.listOutbox({ kind: 'webhook', status: 'failed', limit: 10 })), [w1.id])
    t.strictSame(await store.listOutbox({ kind: 'sms', limit: 10 }), [], 'a kind with no rows')
    await t.rejects(store.listOutbox({ kind: 'Bad Kind', limit: 10 }), TypeError)
  })

  t.test('listOutbox pages backwards with before, without overlap or gap', async (t) => {
    const store = await withStore(t)
    const made: OutboxMessage[] = []
    for (let i = 0; i < 12; i++) {
      const seed = { now: T0 + i * 1_000 }
      made.push(
        i % 3 === 0
          ? await enqueueSuppressed(store, 'unknown_address', seed)
          : await store.enqueue(message(seed)),
      )
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
    await store.markFailed(c.id, 'bounce', T0)
    t.strictSame(await store.countOutbox(), { pending: 2, sent: 2, failed: 1, suppressed: 0 })
    await enqueueSuppressed(store, 'unknown_address', { now: T0 + 5 })
    t.strictSame(await store.countOutbox(), { pending: 2, sent: 2, failed: 1, suppressed: 1 })
  })

  t.test(
    'outboxBacklog: pending rows per kind and the oldest one, whatever their lease',
    async (t) => {
      const store = await withStore(t)
      t.strictSame(await store.outboxBacklog(), [], 'nothing pending, no kind')
      const first = await store.enqueue(message({ now: T0 + 5 }))
      await store.enqueue(message({ now: T0 + 9 }))
      await store.enqueue(message({ kind: 'webhook', now: T0 + 7 }))
      const sent = await store.enqueue(message({ now: T0 }))
      await store.markSent(sent.id, T0 + 1, 'p')
      await enqueueSuppressed(store, 'unknown_address', { now: T0 + 1 })
      // A claimed row, and one waiting for its retry, are pending all the same.
      await store.claimDue(T0 + 10, LEASE, 1)
      await store.markRetry(first.id, T0 + DAY, 'try later')
      t.strictSame(await store.outboxBacklog(), [
        { kind: 'email', pending: 2, oldestCreatedAt: T0 + 5 },
        { kind: 'webhook', pending: 1, oldestCreatedAt: T0 + 7 },
      ])
      await store.markFailed(first.id, 'gave up', T0 + 11)
      t.strictSame(await store.outboxBacklog(), [
        { kind: 'email', pending: 1, oldestCreatedAt: T0 + 9 },
        { kind: 'webhook', pending: 1, oldestCreatedAt: T0 + 7 },
      ])
    },
  )

  t.test('pruneOutbox deletes finished rows created before the cut-off', async (t) => {
    const store = await withStore(t)
    const enqueueAs = async (now: number, end: 'pending' | 'sent' | 'failed' | 'suppressed') => {
      const row = await store.enqueue(message({ now }))
      if (end === 'suppressed') await store.markSuppressed(row.id, 'unknown_address', T0)
      if (end === 'sent') await store.markSent(row.id, now + 1, 'p')
      if (end === 'failed') await store.markFailed(row.id, 'bounce', T0)
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
      await enqueueSuppressed(store, 'user_disabled', { userId: alice.id, now: T0 + 2 }),
    ]
    await store.markSent(aliceRows[1]?.id ?? '', T0 + 3, 'p')
    await store.enqueue(message({ userId: bob.id, now: T0 + 4 }))
    await store.enqueue(message({ userId: null, recipient: 'alice@example.com', now: T0 + 5 }))
    await enqueueSuppressed(store, 'unknown_address', { userId: null, now: T0 + 6 })
    const before = await store.listOutbox({ limit: 100 })
    t.equal(before.length, 6)

    t.equal(await store.delete(alice.id, T0), true)
    t.strictSame(await store.listOutbox({ userId: alice.id, limit: 100 }), [])
    t.strictSame(
      await store.listOutbox({ limit: 100 }),
      before.filter((m) => m.userId !== alice.id),
      "other users' rows and rows without a user are untouched",
    )
    t.strictSame(await store.countOutbox(), { pending: 2, sent: 0, failed: 0, suppressed: 1 })
  })
}
