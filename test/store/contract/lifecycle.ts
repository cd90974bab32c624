import type { Test } from 'tap'
import { Unavailable } from '../../../src/errors.js'
import { LEASE, newSession, T0, UNKNOWN_ID, type WithStore } from './fixtures.js'

/** Readiness and close, alike on every store: what a closed store answers is an outage. */
export function lifecycleContract(t: Test, withStore: WithStore): void {
  t.test('ping resolves while open and rejects once closed', async (t) => {
    const store = await withStore(t)
    await t.resolves(store.ping())
    await store.close()
    await t.rejects(store.ping())
  })

  t.test('every call on a closed store rejects with Unavailable', async (t) => {
    const store = await withStore(t)
    await store.findOrCreate('alice@example.com', T0)
    await store.close()
    const calls: [string, () => Promise<unknown>][] = [
      ['ping', () => store.ping()],
      ['migrate', () => store.migrate()],
      ['findById', () => store.findById(UNKNOWN_ID)],
      ['findOrCreate', () => store.findOrCreate('bob@example.com', T0)],
      ['findSession', () => store.findSession(UNKNOWN_ID)],
      [
        'consumeAndOpen',
        () => store.consumeAndOpen(UNKNOWN_ID, { rev: 0, seq: 0 }, newSession(), T0),
      ],
      ['rotate', () => store.rotate(UNKNOWN_ID, { rev: 0, refreshSeq: 0 }, T0)],
      ['revoke', () => store.revoke(UNKNOWN_ID, T0)],
      ['pruneSessions', () => store.pruneSessions(T0)],
      ['phantomId', () => store.phantomId('key', T0)],
      ['claimDue', () => store.claimDue(T0, LEASE, 1)],
      [
        'enqueueAll',
        () =>
          store.enqueueAll([
            { kind: 'webhook', userId: null, recipient: 'x', payload: {}, now: T0 },
          ]),
      ],
      ['listOutbox', () => store.listOutbox({ limit: 1 })],
    ]
    for (const [name, call] of calls) await t.rejects(call(), Unavailable, name)
    await t.resolves(store.close(), 'closing again is fine')
  })
}
