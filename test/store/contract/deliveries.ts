import type { Test } from 'tap'
import type { DeliveryReport } from '../../../src/store/deliveries.js'
import type { Store } from '../../../src/store/index.js'
import type { Suppression } from '../../../src/store/suppressions.js'
import { DAY, find, message, T0, UNKNOWN_ID, type WithStore } from './fixtures.js'

/** A sent email of a user, as the worker leaves it: Resend's id recorded. */
async function sentEmail(store: Store, providerId = 'resend-1') {
  const { user } = await store.findOrCreate('ada@example.com', T0)
  const row = await store.enqueue(
    message({ userId: user.id, recipient: 'Ada+x@example.com', now: T0 }),
  )
  await store.claimDue(T0, 60_000, 10)
  await store.markSent(row.id, T0 + 1, providerId)
  return { user, row }
}

const bounced = (overrides: Partial<Suppression> = {}): Suppression => ({
  address: 'ada@example.com',
  email: 'Ada+x@example.com',
  reason: 'bounced',
  createdAt: T0 + 10,
  expiresAt: null,
  ...overrides,
})

const eventsOf = async (store: Store, type: string) => store.listEvents({ type, limit: 100 })

/** The mail provider's feedback: rows found by the provider's id, reports recorded once. */
export function deliveriesContract(t: Test, withStore: WithStore): void {
  t.test('an email is found by the id the provider gave it', async (t) => {
    const store = await withStore(t)
    const { row } = await sentEmail(store)
    t.equal((await store.findByProviderId('resend-1'))?.id, row.id)
    t.equal(await store.findByProviderId('resend-2'), undefined, 'another id: none')
    t.equal(await store.findByProviderId(''), undefined, 'no id: none')
    t.equal(await store.findByProviderId('x'.repeat(300)), undefined, 'an impossible id: none')
  })

  t.test('a report marks the row, writes its event and suppression, once', async (t) => {
    const store = await withStore(t)
    const { user, row } = await sentEmail(store)
    const report: DeliveryReport = {
      eventId: 'msg_1',
      messageId: row.id,
      outcome: 'bounced',
      event: { type: 'email.bounced', detail: { permanent: true } },
      suppression: bounced(),
    }
    t.equal(await store.recordDelivery(report, T0 + 10), true, 'recorded')
    t.match(await find(store, row.id), { status: 'sent', delivery: 'bounced', deliveryAt: T0 + 10 })
    t.match(await eventsOf(store, 'email.bounced'), [
      { userId: user.id, actor: 'system', detail: { message_id: row.id, permanent: true } },
    ])
    t.same(await store.activeSuppression('ada@example.com', T0 + 365 * DAY), bounced())

    // The same callback again, even with another outcome: nothing changes.
    await store.removeSuppression('ada@example.com')
    const again = {
      ...report,
      outcome: 'complained' as const,
      suppression: bounced({ reason: 'complained' }),
    }
    t.equal(await store.recordDelivery(again, T0 + 20), false, 'a duplicate')
    t.match(await find(store, row.id), { delivery: 'bounced', deliveryAt: T0 + 10 })
    t.equal((await eventsOf(store, 'email.bounced')).length, 1, 'one event')
    t.equal(await store.activeSuppression('ada@example.com', T0 + 20), undefined, 'no entry')
  })

  t.test('the row keeps the strongest report', async (t) => {
    const store = await withStore(t)
    const { row } = await sentEmail(store)
    const report = (n: number, outcome: DeliveryReport['outcome']) =>
      store.recordDelivery({ eventId: `msg_${n}`, messageId: row.id, outcome }, T0 + n)
    const seen: (string | null | undefined)[] = []
    for (const [n, outcome] of [
      [1, 'delayed'],
      [2, 'soft_bounced'],
      [3, 'delayed'],
      [4, 'delivered'],
      [5, 'soft_bounced'],
      [6, 'complained'],
      [7, 'bounced'],
    ] as const) {
      await report(n, outcome)
      seen.push((await find(store, row.id))?.delivery)
    }
    t.same(seen, [
      'delayed',
      'soft_bounced',
      'soft_bounced',
      'delivered',
      'delivered',
      'complained',
      'complained',
    ])
    t.same(
      (await eventsOf(store, 'email.delivered')).length,
      0,
      'no event unless the report carries one',
    )
  })

  t.test('callback ids are forgotten when pruned', async (t) => {
    const store = await withStore(t)
    const { row } = await sentEmail(store)
    const report = { eventId: 'msg_old', messageId: row.id, outcome: 'delivered' as const }
    await store.recordDelivery(report, T0)
    await store.recordDelivery({ ...report, eventId: 'msg_new' }, T0 + DAY)
    t.equal(await store.pruneProviderEvents(T0 + 1), 1, 'the old one')
    t.equal(await store.recordDelivery(report, T0 + DAY), true, 'known no more')
    t.equal(await store.recordDelivery({ ...report, eventId: 'msg_new' }, T0 + DAY), false)
  })

  t.test('arguments that cannot be right are refused before a statement runs', async (t) => {
    const store = await withStore(t)
    const ok: DeliveryReport = { eventId: 'msg_1', messageId: UNKNOWN_ID, outcome: 'delivered' }
    await t.rejects(store.recordDelivery({ ...ok, eventId: '' }, T0), TypeError)
    await t.rejects(store.recordDelivery({ ...ok, messageId: 'nope' }, T0), TypeError)
    await t.rejects(
      store.recordDelivery({ ...ok, outcome: 'lost' as DeliveryReport['outcome'] }, T0),
      TypeError,
    )
    await t.rejects(
      store.recordDelivery({ ...ok, suppression: bounced({ address: '' }) }, T0),
      TypeError,
    )
    await t.rejects(store.recordDelivery(ok, Number.NaN), TypeError)
    await t.rejects(store.pruneProviderEvents(-1), TypeError)
    // A report about a row that is gone records its id, and changes nothing else.
    t.equal(await store.recordDelivery(ok, T0), true)
    t.same(await eventsOf(store, 'email.*'), [])
  })
}
