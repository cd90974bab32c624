import type { Test } from 'tap'
import type { EndReason } from '../../../src/store/sessions.js'
import { DAY, MAX_AGE, newSession, signedIn, T0, UNKNOWN_ID, type WithStore } from './fixtures.js'

/**
 * Sessions, ending and keeping: ended one by one or all of a user's, by a revoke, a disable or a
 * delete; listed and pruned; and what every store answers to arguments that cannot be right.
 */
export function sessionEndsContract(t: Test, withStore: WithStore): void {
  t.test('endSession ends once: the first reason and time stand', async (t) => {
    const store = await withStore(t)
    const { session, user } = await signedIn(store)
    const other = (await store.consumeAndOpen(user.id, { rev: 0, seq: 1 }, newSession(), T0))
      ?.session
    const ended = await store.endSession(session.id, 'logout', T0 + 10)
    t.strictSame(ended, { ...session, endedAt: T0 + 10, endReason: 'logout' })
    t.equal(await store.endSession(session.id, 'admin', T0 + 20), undefined, 'ended already')
    t.strictSame((await store.findSession(session.id))?.session, ended, 'the first end stands')
    t.equal(await store.endSession(UNKNOWN_ID, 'admin', T0 + 20), undefined, 'unknown')
    t.match(await store.findSession(other?.id as string), { session: { endedAt: null } })
  })

  t.test('endSessions ends every open session of one user', async (t) => {
    const store = await withStore(t)
    const { session, user } = await signedIn(store)
    const second = (await store.consumeAndOpen(user.id, { rev: 0, seq: 1 }, newSession(), T0 + 1))
      ?.session
    const bystander = (await signedIn(store, 'bob@example.com')).session
    await store.endSession(session.id, 'logout', T0 + 5)
    t.equal(await store.endSessions(user.id, 'reported', T0 + 10), 1, 'only the open one')
    t.match(await store.findSession(session.id), { session: { endReason: 'logout' } })
    t.match(await store.findSession(second?.id as string), {
      session: { endReason: 'reported', endedAt: T0 + 10 },
    })
    t.match(await store.findSession(bystander.id), { session: { endedAt: null } }, 'others stay')
    t.equal(await store.endSessions(user.id, 'admin', T0 + 20), 0, 'again: none')
    t.equal(await store.endSessions(UNKNOWN_ID, 'admin', T0 + 20), 0)
  })

  t.test('listSessions: open and recently ended, newest first, up to limit', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const made = []
    for (let i = 0; i < 4; i++) {
      const at = T0 + i * DAY
      const opened = await store.consumeAndOpen(
        user.id,
        { rev: 0, seq: i },
        newSession({ expiresAt: at + MAX_AGE }),
        at,
      )
      made.push(opened?.session)
    }
    const [first, second, third, fourth] = made as NonNullable<(typeof made)[number]>[]
    const endedLongAgo = await store.endSession(first?.id as string, 'logout', T0 + DAY)
    const endedLately = await store.endSession(second?.id as string, 'admin', T0 + 10 * DAY)
    t.ok(endedLongAgo && endedLately)
    const since = T0 + 5 * DAY
    t.strictSame(await store.listSessions(user.id, { since, limit: 10 }), [
      fourth,
      third,
      endedLately,
    ])
    t.strictSame(await store.listSessions(user.id, { since, limit: 2 }), [fourth, third])
    t.strictSame(
      await store.listSessions(user.id, { since: T0 + 3 * DAY + MAX_AGE + 1, limit: 10 }),
      [],
      'expired long ago: not listed',
    )
    t.strictSame(await store.listSessions(UNKNOWN_ID, { since, limit: 10 }), [])
  })

  t.test('pruneSessions deletes what ended or expired before the cut-off', async (t) => {
    const store = await withStore(t)
    const ended = (await signedIn(store, 'ended@example.com')).session
    await store.endSession(ended.id, 'logout', T0 + DAY)
    const expired = (await signedIn(store, 'expired@example.com', { expiresAt: T0 + 2 * DAY }))
      .session
    const open = (await signedIn(store, 'open@example.com')).session
    const endedLate = (await signedIn(store, 'late@example.com')).session
    await store.endSession(endedLate.id, 'logout', T0 + 3 * DAY)

    t.equal(await store.pruneSessions(T0 + DAY), 0, 'nothing before the cut-off')
    t.equal(await store.pruneSessions(T0 + 3 * DAY), 2)
    t.equal(await store.findSession(ended.id), undefined, 'ended before: gone')
    t.equal(await store.findSession(expired.id), undefined, 'expired before: gone')
    t.ok(await store.findSession(open.id), 'open: kept')
    t.ok(await store.findSession(endedLate.id), 'ended at the cut-off: kept')
    t.equal(await store.pruneSessions(T0 + 3 * DAY), 0, 'again: nothing')
  })

  t.test('revoke, disable and delete end the user’s sessions in the same call', async (t) => {
    const store = await withStore(t)
    const bystander = await signedIn(store, 'bob@example.com')
    const reason = async (id: string) => {
      const found = (await store.findSession(id))?.session
      return found && { endedAt: found.endedAt, endReason: found.endReason }
    }

    const revoked = await signedIn(store, 'revoked@example.com')
    const loggedOut = await store.consumeAndOpen(revoked.user.id, revoked.user, newSession(), T0)
    await store.endSession(loggedOut?.session.id as string, 'logout', T0 + 1)
    t.ok(await store.touchAndOpen(revoked.user.id, 0, newSession(), T0), 'a second open session')
    t.match(
      await store.revoke(revoked.user.id, T0 + 2),
      { rev: 1, endedSessions: 2 },
      'says how many it ended: the open ones only',
    )
    t.same(await reason(revoked.session.id), { endedAt: T0 + 2, endReason: 'revoked' })
    t.same(
      await reason(loggedOut?.session.id as string),
      { endedAt: T0 + 1, endReason: 'logout' },
      'a session ended before keeps its end',
    )

    const reported = await signedIn(store, 'reported@example.com')
    t.match(await store.revoke(reported.user.id, T0 + 3, 'reported'), { endedSessions: 1 })
    t.same(await reason(reported.session.id), { endedAt: T0 + 3, endReason: 'reported' })

    const disabled = await signedIn(store, 'disabled@example.com')
    t.match(await store.setStatus(disabled.user.id, 'disabled', T0 + 4), { endedSessions: 1 })
    t.same(await reason(disabled.session.id), { endedAt: T0 + 4, endReason: 'disabled' })
    t.match(await store.setStatus(disabled.user.id, 'disabled', T0 + 4), { endedSessions: 0 })
    t.match(await store.setStatus(disabled.user.id, 'active', T0 + 5), { endedSessions: 0 })
    t.same(
      await reason(disabled.session.id),
      { endedAt: T0 + 4, endReason: 'disabled' },
      'an enable revives no session',
    )

    const enabled = await signedIn(store, 'enabled@example.com')
    await store.setStatus(enabled.user.id, 'active', T0 + 6)
    t.same(await reason(enabled.session.id), { endedAt: null, endReason: null }, 'enable: open')

    const deleted = await signedIn(store, 'deleted@example.com')
    await store.delete(deleted.user.id, T0)
    t.equal(await store.findSession(deleted.session.id), undefined, 'deleted: gone with the user')
    t.strictSame(await store.listSessions(deleted.user.id, { since: T0, limit: 10 }), [])

    t.same(await reason(bystander.session.id), { endedAt: null, endReason: null }, 'others stay')
    await t.rejects(store.revoke(bystander.user.id, T0, 'logout' as never), TypeError)
    await t.rejects(store.revoke(bystander.user.id, Number.NaN), TypeError)
    await t.rejects(store.setStatus(bystander.user.id, 'disabled', -1), TypeError)
    t.same(await reason(bystander.session.id), { endedAt: null, endReason: null })
  })

  t.test('ids and arguments that cannot be right', async (t) => {
    const store = await withStore(t)
    const { session, user } = await signedIn(store)
    for (const id of ['not-a-uuid', '', session.id.toUpperCase()]) {
      t.equal(await store.findSession(id), undefined, `findSession ${JSON.stringify(id)}`)
      t.equal(await store.rotate(id, { rev: 0, refreshSeq: 0 }, T0), undefined, 'rotate')
      t.equal(await store.endSession(id, 'admin', T0), undefined, 'endSession')
      t.equal(await store.endSessions(id, 'admin', T0), 0, 'endSessions')
      t.strictSame(await store.listSessions(id, { since: T0, limit: 1 }), [], 'listSessions')
      t.equal(await store.consumeAndOpen(id, user, newSession(), T0), undefined, 'consume')
      t.equal(await store.touchAndOpen(id, 0, newSession(), T0), undefined, 'touchAndOpen')
    }
    const mistakes: [string, () => Promise<unknown>][] = [
      ['an empty client', () => store.touchAndOpen(user.id, 0, newSession({ client: '' }), T0)],
      [
        'a client with NUL',
        () => store.touchAndOpen(user.id, 0, newSession({ client: 'a\0' }), T0),
      ],
      ['an expiry', () => store.touchAndOpen(user.id, 0, newSession({ expiresAt: -1 }), T0)],
      ['an ip', () => store.touchAndOpen(user.id, 0, newSession({ ip: 7 as never }), T0)],
      ['a user agent', () => store.touchAndOpen(user.id, 0, newSession({ userAgent: '\0' }), T0)],
      ['a consume time', () => store.consumeAndOpen(user.id, user, newSession(), Number.NaN)],
      ['a refresh seq', () => store.rotate(session.id, { rev: 0, refreshSeq: -1 }, T0)],
      ['a rotate time', () => store.rotate(session.id, { rev: 0, refreshSeq: 0 }, 0.5)],
      ['a reason', () => store.endSession(session.id, 'bored' as EndReason, T0)],
      ['a reason for all', () => store.endSessions(user.id, 'bored' as EndReason, T0)],
      ['an end time', () => store.endSession(session.id, 'logout', -1)],
      ['list limit 0', () => store.listSessions(user.id, { since: T0, limit: 0 })],
      ['list since', () => store.listSessions(user.id, { since: Number.NaN, limit: 1 })],
      ['a prune cut-off', () => store.pruneSessions(-1)],
    ]
    for (const [name, call] of mistakes) await t.rejects(call(), TypeError, name)
    t.strictSame(await store.findSession(session.id), { session, user: { ...user, seq: 1 } })
  })
}
