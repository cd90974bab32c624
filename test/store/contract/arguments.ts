import type { Test } from 'tap'
import type { UserOrigin, UserStatus } from '../../../src/store/users.js'
import { find, LEASE, message, T0, type WithStore } from './fixtures.js'

/** Ids that cannot be one of ours: malformed, or a UUID spelled otherwise than the store writes. */
const NOT_OURS = ['not-a-uuid', '', '01900000-0000-7000-8000-00000000000', ' ']

/**
 * What every store answers alike to ids and arguments that cannot be right: an id that cannot
 * be ours is no user and no message (nothing found, nothing changed), and a time, limit, status
 * or cursor that cannot be right is the caller's mistake, a TypeError, before any statement runs.
 */
export function argumentsContract(t: Test, withStore: WithStore): void {
  t.test('an id that cannot be ours is no user, everywhere', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    for (const id of [...NOT_OURS, user.id.toUpperCase(), `{${user.id}}`]) {
      t.equal(await store.findById(id), undefined, `findById ${JSON.stringify(id)}`)
      t.equal(await store.consume(id, { rev: 0, seq: 0 }, T0 + 1), undefined, 'consume')
      t.equal(await store.touchLogin(id, 0, T0 + 1), undefined, 'touchLogin')
      t.equal(await store.revoke(id, T0), undefined, 'revoke')
      t.equal(await store.setStatus(id, 'disabled', T0), undefined, 'setStatus')
      t.equal(await store.delete(id, T0), false, 'delete')
      t.strictSame(await store.listOutbox({ userId: id, limit: 10 }), [], 'listOutbox by user')
    }
    for (const email of ['', 'alice@example.com\0', '\0']) {
      t.equal(await store.findByEmail(email), undefined, `findByEmail ${JSON.stringify(email)}`)
    }
    t.same(await store.findById(user.id), user, 'the user is untouched')
  })

  t.test('a result for an id that cannot be ours changes nothing', async (t) => {
    const store = await withStore(t)
    const row = await store.enqueue(message())
    for (const id of [...NOT_OURS, row.id.toUpperCase()]) {
      await t.resolves(store.markSent(id, T0 + 1, 'p'), `markSent ${JSON.stringify(id)}`)
      await t.resolves(store.markRetry(id, T0 + 1, 'error'), 'markRetry')
      await t.resolves(store.markFailed(id, 'error', T0), 'markFailed')
      await t.resolves(store.markSuppressed(id, 'user_disabled', T0), 'markSuppressed')
    }
    t.strictSame(await find(store, row.id), row, 'the row is untouched')
  })

  t.test('a cursor that is not a message id is a TypeError', async (t) => {
    const store = await withStore(t)
    const row = await store.enqueue(message())
    for (const before of ['not-an-id', '', 'zzzz', row.id.toUpperCase()]) {
      await t.rejects(store.listOutbox({ before, limit: 10 }), TypeError, JSON.stringify(before))
    }
  })

  t.test('caller mistakes are TypeErrors', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('a@example.com', T0)
    const row = await store.enqueue(message())
    const mistakes: [string, () => Promise<unknown>][] = [
      ['an empty email', () => store.findOrCreate('', T0)],
      ['an email with NUL', () => store.findOrCreate('b@example.com\0', T0)],
      ['a time that is not one', () => store.findOrCreate('b@example.com', Number.NaN)],
      ['an unknown origin', () => store.findOrCreate('b@example.com', T0, 'x' as UserOrigin)],
      ['list limit 0', () => store.list({ limit: 0 })],
      ['a negative time', () => store.consume(user.id, { rev: 0, seq: 0 }, -1)],
      ['a fractional time', () => store.touchLogin(user.id, 0, T0 + 0.5)],
      ['a fractional seq', () => store.consume(user.id, { rev: 0, seq: 0.5 }, T0)],
      ['a negative rev', () => store.consume(user.id, { rev: -1, seq: 0 }, T0)],
      ['a rev that is not one', () => store.touchLogin(user.id, Number.NaN, T0)],
      ['an unknown status', () => store.setStatus(user.id, 'gone' as UserStatus, T0)],
      ['a phantom time', () => store.phantomId('key', Number.NaN)],
      ['an enqueue time', () => store.enqueue(message({ now: -1 }))],
      ['a job kind that is no name', () => store.enqueue(message({ kind: 'Email!' }))],
      ['a user id that cannot be', () => store.enqueue(message({ userId: 'not-a-uuid' }))],
      [
        'a user id spelled otherwise',
        () => store.enqueue(message({ userId: user.id.toUpperCase() })),
      ],
      ['claim limit 0', () => store.claimDue(T0, LEASE, 0)],
      ['claim limit -1', () => store.claimDue(T0, LEASE, -1)],
      ['a negative lease', () => store.claimDue(T0, -1, 1)],
      ['a sent time', () => store.markSent(row.id, Number.NaN, null)],
      ['a retry time', () => store.markRetry(row.id, -1, 'error')],
      ['listOutbox limit 0', () => store.listOutbox({ limit: 0 })],
      ['listOutbox limit -1', () => store.listOutbox({ limit: -1 })],
      ['a cut-off that is not a time', () => store.pruneOutbox(Number.NaN)],
      ['prune limit 0', () => store.pruneUnused(T0, 0)],
    ]
    for (const [name, call] of mistakes) await t.rejects(call(), TypeError, name)
    t.same(await store.findById(user.id), user, 'nothing changed')
    t.strictSame(await find(store, row.id), row)
  })
}
