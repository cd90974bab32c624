import type { Test } from 'tap'
import {
  DAY,
  enqueueSuppressed,
  find,
  ids,
  LEASE,
  message,
  PAYLOAD,
  sortedById,
  T0,
  UNKNOWN_ID,
  UUID_V7,
  type WithStore,
} from './fixtures.js'

/**
 * The outbox as the worker uses it: enqueue, claim with a lease, record the result. Rows are
 * compared with strictSame: a networked driver that hands back bigint columns or counts as
 * strings must convert them.
 */
export function outboxDeliveryContract(t: Test, withStore: WithStore): void {
  t.test('enqueue returns the stored row, which is listed', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const pending = await store.enqueue(
      message({ userId: user.id, recipient: 'alice@example.com', payload: PAYLOAD }),
    )
    t.match(pending.id, UUID_V7)
    t.strictSame(pending, {
      id: pending.id,
      kind: 'email',
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
      delivery: null,
      deliveryAt: null,
    })

    const queued = await store.enqueue(message({ recipient: 'nobody@example.com', now: T0 + 1 }))
    await store.markSuppressed(queued.id, 'unknown_address', T0)
    const suppressed = await find(store, queued.id)
    t.match(suppressed?.id, UUID_V7)
    t.not(suppressed?.id, pending.id)
    t.strictSame(suppressed, {
      id: queued.id,
      kind: 'email',
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
      delivery: null,
      deliveryAt: null,
    })

    t.strictSame(await store.listOutbox({ limit: 10 }), [suppressed, pending], 'both are stored')
  })

  t.test('enqueueAll stores several rows in one go, in order, each as enqueue would', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const specs = [
      message({ kind: 'webhook', recipient: 'https://a.example/in', payload: PAYLOAD }),
      message({ kind: 'webhook', recipient: 'https://b.example/in', payload: 'a bare string' }),
      message({ userId: user.id, recipient: 'alice@example.com', payload: [1, null], now: T0 + 5 }),
    ]
    const rows = await store.enqueueAll(specs)
    t.equal(rows.length, 3)
    for (const [i, row] of rows.entries()) {
      const spec = specs[i] as (typeof specs)[number]
      t.match(row.id, UUID_V7)
      t.strictSame(row, {
        id: row.id,
        kind: spec.kind,
        userId: spec.userId,
        recipient: spec.recipient,
        payload: spec.payload,
        status: 'pending',
        reason: null,
        attempts: 0,
        nextAttemptAt: spec.now,
        lastError: null,
        createdAt: spec.now,
        sentAt: null,
        providerId: null,
        delivery: null,
        deliveryAt: null,
      })
      t.strictSame(await find(store, row.id), row, 'as stored')
    }
    t.same(ids(sortedById(rows)), ids(rows), 'ids in the order given')
    t.strictSame(await store.enqueueAll([]), [], 'none: nothing')
    await t.rejects(
      store.enqueueAll([message(), message({ userId: 'not-a-user' })]),
      TypeError,
      'one bad row refuses all',
    )
    await t.rejects(store.enqueueAll([message({ userId: UNKNOWN_ID })]), 'an unknown user')
    t.equal((await store.listOutbox({ limit: 10 })).length, 3, 'and nothing else was stored')
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

  t.test('claimDue with a kind claims rows of that kind only, oldest due first', async (t) => {
    const store = await withStore(t)
    const hook = (now: number) => message({ kind: 'webhook', recipient: 'https://h.test/', now })
    const e1 = await store.enqueue(message({ now: T0 }))
    const w1 = await store.enqueue(hook(T0 + 1))
    const e2 = await store.enqueue(message({ now: T0 + 2 }))
    const w2 = await store.enqueue(hook(T0 + 3))
    t.same(ids(await store.claimDue(T0 + 10, LEASE, 10, 'webhook')), [w1.id, w2.id])
    t.strictSame(await store.claimDue(T0 + 10, LEASE, 10, 'webhook'), [], 'each once')
    t.same(ids(await store.claimDue(T0 + 10, LEASE, 1, 'email')), [e1.id], 'at most limit')
    t.same(ids(await store.claimDue(T0 + 10, LEASE, 10)), [e2.id], 'without a kind: any kind')
    await t.rejects(store.claimDue(T0, LEASE, 1, 'Not A Kind'), TypeError)
  })

  t.test('rows that are not pending are never claimed', async (t) => {
    const store = await withStore(t)
    await enqueueSuppressed(store, 'user_disabled')
    const sent = await store.enqueue(message({ now: T0 + 1 }))
    const failed = await store.enqueue(message({ now: T0 + 2 }))
    t.equal((await store.claimDue(T0 + 2, LEASE, 10)).length, 2)
    await store.markSent(sent.id, T0 + 3, 'provider-1')
    await store.markFailed(failed.id, 'hard bounce', T0)
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
        delivery: null,
        deliveryAt: null,
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
    await store.markFailed(m.id, 'hard bounce: mailbox does not exist', T0)
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
    await store.markSuppressed(m.id, 'unknown_address', T0)
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
    const suppressed = await enqueueSuppressed(store, 'unknown_address', { now: T0 + 2 })
    await store.claimDue(T0 + 2, LEASE, 10)
    await store.markFailed(failed.id, 'gave up', T0)
    await store.markSent(sent.id, T0 + 3, 'provider-1')
    const before = await store.listOutbox({ limit: 10 })
    t.match(before, [{ status: 'suppressed' }, { status: 'sent' }, { status: 'failed' }])

    for (const row of [failed, sent, suppressed]) {
      await store.markSent(row.id, T0 + 10, 'late-provider-id')
      await store.markRetry(row.id, T0 + 20, 'late retry')
      await store.markFailed(row.id, 'late failure', T0)
      await store.markSuppressed(row.id, 'user_disabled', T0)
    }
    t.strictSame(await store.listOutbox({ limit: 10 }), before, 'late results are ignored')

    await t.resolves(store.markSent(UNKNOWN_ID, T0, null), 'unknown ids are ignored')
    await t.resolves(store.markRetry(UNKNOWN_ID, T0, 'x'))
    await t.resolves(store.markFailed(UNKNOWN_ID, 'x', T0))
    await t.resolves(store.markSuppressed(UNKNOWN_ID, 'x', T0))
    t.strictSame(await store.listOutbox({ limit: 10 }), before)
  })
}
