import type { Test } from 'tap'
import { DAY, T0, type WithStore } from './fixtures.js'

/** Stand-in ids, and pruning them with unused users. */
export function phantomsContract(t: Test, withStore: WithStore): void {
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
}
