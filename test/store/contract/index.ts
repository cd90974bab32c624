import type { Test } from 'tap'
import type { Store } from '../../../src/store/index.js'
import { argumentsContract } from './arguments.js'
import { auditContract, auditRollbackContract } from './audit.js'
import { deliveriesContract } from './deliveries.js'
import type { MakeStore, WithHandles, WithRefusal, WithStore } from './fixtures.js'
import { handlesContract } from './handles.js'
import { lifecycleContract } from './lifecycle.js'
import { outboxDeliveryContract } from './outbox-delivery.js'
import { outboxListingContract } from './outbox-listing.js'
import { phantomsContract } from './phantoms.js'
import { sessionEndsContract } from './session-ends.js'
import { sessionsContract } from './sessions.js'
import { suppressionsContract } from './suppressions.js'
import { usersContract } from './users.js'

export type { MakeStore }

/**
 * The behaviour every Store must have, aggregate by aggregate: users, sessions, stand-in ids,
 * the email outbox, the life cycle, what every store answers to arguments that cannot be right,
 * and two handles on one database. Each subtest gets a fresh store from `makeStore`; the suite closes it
 * (twice: close must be idempotent) and then calls `cleanup`.
 */
export function storeContract(t: Test, name: string, makeStore: MakeStore) {
  /** The store, and a second handle on its data when the store has one (closed first). */
  const withHandles: WithHandles = async (t) => {
    const { store, cleanup, another, refuse } = await makeStore()
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
    return { store, another: open, refuse }
  }
  const withStore: WithStore = async (t) => (await withHandles(t)).store
  const withRefusal: WithRefusal = async (t) => {
    const { store, refuse } = await withHandles(t)
    if (!refuse) throw new TypeError('this store cannot refuse events')
    return { store, refuse }
  }

  return t.test(`Store contract: ${name}`, async (t) => {
    usersContract(t, withStore)
    t.test('SessionStore', async (t) => {
      sessionsContract(t, withStore)
      sessionEndsContract(t, withStore)
    })
    phantomsContract(t, withStore)
    t.test('SuppressionStore', async (t) => suppressionsContract(t, withStore))
    lifecycleContract(t, withStore)
    argumentsContract(t, withStore)
    t.test('OutboxStore', async (t) => {
      outboxDeliveryContract(t, withStore)
      outboxListingContract(t, withStore)
    })
    t.test('DeliveryStore', async (t) => deliveriesContract(t, withStore))
    t.test('two handles on one database', async (t) => handlesContract(t, withHandles))
    t.test('AuditStore', async (t) => {
      auditContract(t, withStore)
      const probe = await makeStore()
      await probe.store.close()
      await probe.cleanup()
      if (probe.refuse) auditRollbackContract(t, withRefusal)
    })
  })
}
