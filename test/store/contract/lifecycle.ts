import type { Test } from 'tap'
import type { WithStore } from './fixtures.js'

/** Readiness and close, and what every store answers alike to ids and arguments that cannot be right. */
export function lifecycleContract(t: Test, withStore: WithStore): void {
  t.test('ping resolves while open and rejects once closed', async (t) => {
    const store = await withStore(t)
    await t.resolves(store.ping())
    await store.close()
    await t.rejects(store.ping())
  })
}
