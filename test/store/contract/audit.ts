import type { Test } from 'tap'
import type { AuditContext, AuditEvent } from '../../../src/store/audit.js'
import type { Store } from '../../../src/store/index.js'
import { until } from '../../helpers/poll.js'
import {
  message,
  newSession,
  signedIn,
  T0,
  UNKNOWN_ID,
  UUID_V7,
  type WithRefusal,
  type WithStore,
} from './fixtures.js'

const KEY: AuditContext = { actor: 'key:backend', ip: '198.51.100.1', userAgent: 'backend/1.0' }
const CONTEXT = { actor: 'key:backend', ip: '198.51.100.1', userAgent: 'backend/1.0' }
const SYSTEM = { actor: 'system', ip: null, userAgent: null }

/** Every event, oldest first (the listing is newest first). */
const trail = async (store: Store, userId?: string): Promise<AuditEvent[]> =>
  (await store.listEvents({ userId, limit: 1000 })).reverse()

/** The events as [type, detail] pairs, oldest first: what happened, in order. */
const story = async (store: Store, userId?: string) =>
  (await trail(store, userId)).map((e) => [e.type, e.detail])

/**
 * Waits until the feed hands out `n` entries: PostgreSQL's holds back entries behind any
 * transaction still running on the server (see postgres/audit.ts), other tests' included. Once
 * handed out, an entry stays, so the reads after this see a settled feed.
 */
const feedHas = (store: Store, n: number) =>
  until(
    async () => (await store.revocations(undefined, 1000)).revocations.length === n,
    `${n} feed entries`,
  )

/**
 * The audit trail: every change a store method makes writes its event in the same transaction,
 * with the caller's context; the listing, pruning and the revocation feed.
 */
export function auditContract(t: Test, withStore: WithStore): void {
  t.test('findOrCreate records user.created once, with its context', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0, 'hosted', {
      actor: 'hosted',
      ip: '203.0.113.9',
      userAgent: 'Mozilla/5.0',
    })
    await store.findOrCreate('ALICE@example.com', T0 + 1, 'api', KEY)
    const [created, ...more] = await trail(store)
    t.strictSame(more, [], 'an existing user records nothing')
    t.match(created?.id, UUID_V7)
    t.strictSame(created, {
      id: created?.id,
      at: T0,
      type: 'user.created',
      userId: user.id,
      sessionId: null,
      actor: 'hosted',
      ip: '203.0.113.9',
      userAgent: 'Mozilla/5.0',
      detail: { created_by: 'hosted' },
    })
  })

  t.test('a sign-in records link.verified and session.created with the session', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const opened = await store.consumeAndOpen(user.id, user, newSession(), T0 + 1, KEY)
    const reused = await store.touchAndOpen(user.id, 0, newSession({ client: 'hosted' }), T0 + 2, {
      actor: 'hosted',
    })
    t.equal(
      await store.consumeAndOpen(user.id, user, newSession(), T0 + 3, KEY),
      undefined,
      'a lost consume records nothing',
    )
    const events = await trail(store, user.id)
    t.strictSame(
      events.map(({ id: _, ...e }) => e),
      [
        {
          at: T0,
          type: 'user.created',
          userId: user.id,
          sessionId: null,
          ...SYSTEM,
          detail: { created_by: 'api' },
        },
        {
          at: T0 + 1,
          type: 'link.verified',
          userId: user.id,
          sessionId: opened?.session.id,
          ...CONTEXT,
          detail: { one_time: true },
        },
        {
          at: T0 + 1,
          type: 'session.created',
          userId: user.id,
          sessionId: opened?.session.id,
          ...CONTEXT,
          detail: { client: 'backend' },
        },
        {
          at: T0 + 2,
          type: 'link.verified',
          userId: user.id,
          sessionId: reused?.session.id,
          actor: 'hosted',
          ip: null,
          userAgent: null,
          detail: { one_time: false },
        },
        {
          at: T0 + 2,
          type: 'session.created',
          userId: user.id,
          sessionId: reused?.session.id,
          actor: 'hosted',
          ip: null,
          userAgent: null,
          detail: { client: 'hosted' },
        },
      ],
    )
  })

  t.test('a link used without a session records link.verified', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    t.ok(await store.consume(user.id, user, T0 + 1, KEY))
    t.equal(await store.consume(user.id, user, T0 + 2, KEY), undefined)
    t.ok(await store.touchLogin(user.id, 0, T0 + 3, KEY))
    t.equal(await store.touchLogin(user.id, 5, T0 + 4, KEY), undefined)
    t.strictSame(await story(store, user.id), [
      ['user.created', { created_by: 'api' }],
      ['link.verified', { one_time: true }],
      ['link.verified', { one_time: false }],
    ])
  })

  t.test("link.verified names the token's expiry when given, on every path", async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const token = { expiresAt: 1_893_456_900 }
    const expected = { rev: 0, seq: 0 }
    t.ok(await store.consume(user.id, expected, T0 + 1, KEY, token))
    t.ok(await store.touchLogin(user.id, 0, T0 + 2, KEY, { expiresAt: 0xffffffff }))
    t.ok(await store.consumeAndOpen(user.id, { rev: 0, seq: 1 }, newSession(), T0 + 3, KEY, token))
    t.ok(await store.touchAndOpen(user.id, 0, newSession(), T0 + 4, KEY, token))
    t.equal(
      await store.consume(user.id, expected, T0 + 5, KEY, token),
      undefined,
      'a lost consume records nothing',
    )
    t.strictSame(
      (await story(store, user.id)).filter(([type]) => type === 'link.verified'),
      [
        ['link.verified', { one_time: true, expires_at: 1_893_456_900 }],
        ['link.verified', { one_time: false, expires_at: 0xffffffff }],
        ['link.verified', { one_time: true, expires_at: 1_893_456_900 }],
        ['link.verified', { one_time: false, expires_at: 1_893_456_900 }],
      ],
    )
    for (const expiresAt of [-1, 1.5, 2 ** 32, Number.NaN]) {
      await t.rejects(
        store.consume(user.id, { rev: 0, seq: 2 }, T0 + 6, KEY, { expiresAt }),
        TypeError,
        `expiresAt ${expiresAt} is a programming mistake`,
      )
    }
  })

  t.test('rotate records session.refreshed; a stale rotate records nothing', async (t) => {
    const store = await withStore(t)
    const { session, user } = await signedIn(store)
    t.ok(await store.rotate(session.id, { rev: 0, refreshSeq: 0 }, T0 + 5, KEY))
    t.equal(await store.rotate(session.id, { rev: 0, refreshSeq: 0 }, T0 + 6, KEY), undefined)
    const [last, ...more] = (await store.listEvents({ userId: user.id, limit: 10 })).slice(0, 2)
    t.match(last, { type: 'session.refreshed', sessionId: session.id, at: T0 + 5, ...CONTEXT })
    t.strictSame(last?.detail, { refresh_seq: 1 })
    t.equal(more[0]?.type, 'session.created')
  })

  t.test('session ends record session.ended once, with the reason and rev', async (t) => {
    const store = await withStore(t)
    const { session, user } = await signedIn(store)
    const second = await store.consumeAndOpen(user.id, { rev: 0, seq: 1 }, newSession(), T0)
    const third = await store.consumeAndOpen(user.id, { rev: 0, seq: 2 }, newSession(), T0)
    await store.endSession(session.id, 'logout', T0 + 1, KEY)
    await store.endSession(session.id, 'admin', T0 + 2, KEY)
    t.equal(await store.endSessions(user.id, 'reported', T0 + 3, { actor: 'hosted' }), 2)
    const ended = (await trail(store, user.id)).filter((e) => e.type === 'session.ended')
    // The sessions one call ends are recorded in no particular order among themselves.
    const byTimeAndId = (a: unknown[], b: unknown[]) =>
      Number(a[1]) - Number(b[1]) || String(a[0]).localeCompare(String(b[0]))
    t.strictSame(
      ended.map((e) => [e.sessionId, e.at, e.actor, e.detail]).sort(byTimeAndId),
      [
        [session.id, T0 + 1, 'key:backend', { reason: 'logout', rev: 0 }],
        [second?.session.id, T0 + 3, 'hosted', { reason: 'reported', rev: 0 }],
        [third?.session.id, T0 + 3, 'hosted', { reason: 'reported', rev: 0 }],
      ].sort(byTimeAndId),
    )
  })

  t.test('revoke, disable, enable and delete record their events', async (t) => {
    const store = await withStore(t)
    const { session, user } = await signedIn(store)
    await store.revoke(user.id, T0 + 1, 'revoked', KEY)
    const reopened = await store.consumeAndOpen(user.id, { rev: 1, seq: 1 }, newSession(), T0 + 2)
    await store.setStatus(user.id, 'disabled', T0 + 3, { actor: 'cli' })
    await store.setStatus(user.id, 'disabled', T0 + 4, { actor: 'cli' })
    await store.setStatus(user.id, 'active', T0 + 5, { actor: 'cli' })
    await store.setStatus(user.id, 'active', T0 + 6, { actor: 'cli' })
    t.equal(await store.revoke(UNKNOWN_ID, T0, 'revoked', KEY), undefined)
    t.equal(await store.delete(user.id, T0 + 7, KEY), true)
    t.equal(await store.delete(user.id, T0 + 8, KEY), false)
    const events = await trail(store, user.id)
    t.strictSame(
      events
        .filter((e) => !['link.verified', 'session.created', 'user.created'].includes(e.type))
        .map((e) => [e.type, e.at, e.actor, e.sessionId, e.detail]),
      [
        ['user.revoked', T0 + 1, 'key:backend', null, { reason: 'revoked', rev: 1 }],
        ['session.ended', T0 + 1, 'key:backend', session.id, { reason: 'revoked', rev: 1 }],
        ['user.disabled', T0 + 3, 'cli', null, { reason: 'disabled', rev: 2 }],
        ['session.ended', T0 + 3, 'cli', reopened?.session.id, { reason: 'disabled', rev: 2 }],
        ['user.enabled', T0 + 5, 'cli', null, { rev: 2 }],
        ['user.deleted', T0 + 7, 'key:backend', null, { reason: 'deleted', rev: 2 }],
      ],
    )
    t.equal((await store.listEvents({ limit: 100 })).length, events.length, 'nobody else')
  })

  t.test('emails record email.queued and their outcome, once; other kinds nothing', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const sent = await store.enqueue(message({ userId: user.id, now: T0 + 1 }), KEY)
    const failed = await store.enqueue(message({ userId: user.id, now: T0 + 2 }))
    const suppressed = await store.enqueue(message({ userId: null, now: T0 + 3 }))
    const hook = await store.enqueue(message({ kind: 'webhook', userId: user.id, now: T0 + 4 }))
    await store.markSent(sent.id, T0 + 5, 'provider-1')
    await store.markSent(sent.id, T0 + 6, 'provider-2')
    await store.markFailed(failed.id, 'hard bounce', T0 + 7)
    await store.markSuppressed(suppressed.id, 'unknown_address', T0 + 8, KEY)
    await store.markFailed(suppressed.id, 'late', T0 + 9)
    await store.markRetry(hook.id, T0 + 10, 'later')
    await store.markSent(hook.id, T0 + 11, null)
    const emails = (await trail(store)).filter((e) => e.type.startsWith('email.'))
    t.strictSame(
      emails.map((e) => [e.type, e.at, e.userId, e.actor, e.detail]),
      [
        ['email.queued', T0 + 1, user.id, 'key:backend', { message_id: sent.id }],
        ['email.queued', T0 + 2, user.id, 'system', { message_id: failed.id }],
        ['email.queued', T0 + 3, null, 'system', { message_id: suppressed.id }],
        [
          'email.sent',
          T0 + 5,
          user.id,
          'system',
          { message_id: sent.id, provider_id: 'provider-1' },
        ],
        ['email.failed', T0 + 7, user.id, 'system', { message_id: failed.id }],
        [
          'email.suppressed',
          T0 + 8,
          null,
          'key:backend',
          { message_id: suppressed.id, reason: 'unknown_address' },
        ],
      ],
    )
    t.notOk(JSON.stringify(emails).includes('sign-in'), 'never the payload')
  })

  t.test('recordEvent writes an event of its own (a link that failed)', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    const event = await store.recordEvent(
      { type: 'link.failed', userId: user.id, detail: { code: 'token_used' } },
      KEY,
      T0 + 1,
    )
    t.match(event.id, UUID_V7)
    t.strictSame(event, {
      id: event.id,
      at: T0 + 1,
      type: 'link.failed',
      userId: user.id,
      sessionId: null,
      ...CONTEXT,
      detail: { code: 'token_used' },
    })
    t.strictSame((await store.listEvents({ limit: 1 }))[0], event)
  })

  t.test('listEvents: newest first, by user, exact type or prefix, paged by id', async (t) => {
    const store = await withStore(t)
    const alice = await signedIn(store)
    const bob = await signedIn(store, 'bob@example.com')
    await store.endSession(alice.session.id, 'logout', T0 + 1)
    await store.revoke(bob.user.id, T0 + 2)
    const all = await store.listEvents({ limit: 100 })
    t.equal(all.length, 9)
    t.strictSame(
      all.map((e) => e.id),
      all
        .map((e) => e.id)
        .sort()
        .reverse(),
      'newest first',
    )
    t.strictSame(
      (await store.listEvents({ userId: alice.user.id, limit: 100 })).map((e) => e.type),
      ['session.ended', 'session.created', 'link.verified', 'user.created'],
    )
    t.strictSame(
      (await store.listEvents({ type: 'session.ended', limit: 100 })).map((e) => e.userId),
      [bob.user.id, alice.user.id],
    )
    t.strictSame(
      (await store.listEvents({ type: 'user.*', limit: 100 })).map((e) => e.type),
      ['user.revoked', 'user.created', 'user.created'],
    )
    t.strictSame(
      await store.listEvents({ type: 'user.', limit: 100 }).catch((e) => e.name),
      'TypeError',
    )
    t.strictSame(
      await store.listEvents({ type: 'sess*', limit: 100 }).catch((e) => e.name),
      'TypeError',
    )
    t.strictSame(await store.listEvents({ type: 'nothing.here', limit: 100 }), [])
    const first = await store.listEvents({ limit: 4 })
    const next = await store.listEvents({ before: first.at(-1)?.id, limit: 100 })
    t.strictSame([...first, ...next], all, 'pages join up')
    t.strictSame(await store.listEvents({ userId: 'not-an-id', limit: 10 }), [])
    await t.rejects(store.listEvents({ before: 'nope', limit: 10 }), TypeError)
    await t.rejects(store.listEvents({ limit: 0 }), TypeError)
  })

  t.test('pruneEvents keeps the revocation feed for longer', async (t) => {
    const store = await withStore(t)
    const { user, session } = await signedIn(store)
    await store.endSession(session.id, 'logout', T0 + 10)
    await store.recordEvent({ type: 'link.failed', userId: user.id }, KEY, T0 + 20)
    // Everything before T0 + 30 is old; the feed is kept from T0 + 5 on.
    t.equal(await store.pruneEvents(T0 + 30, T0 + 5), 4)
    t.strictSame(await story(store), [['session.ended', { reason: 'logout', rev: 0 }]])
    t.equal(await store.pruneEvents(T0 + 30, T0 + 30), 1, 'then the feed goes too')
    t.strictSame(await trail(store), [])
    await t.rejects(store.pruneEvents(-1, T0), TypeError)
  })

  t.test('the revocation feed: rev changes and ended sessions, in order, paged', async (t) => {
    const store = await withStore(t)
    const alice = await signedIn(store)
    const bob = await signedIn(store, 'bob@example.com')
    const empty = await store.revocations(undefined, 10)
    t.strictSame(empty.revocations, [])
    await store.endSession(alice.session.id, 'logout', T0 + 1)
    await store.revoke(bob.user.id, T0 + 2)
    await store.setStatus(alice.user.id, 'disabled', T0 + 3)
    await store.setStatus(alice.user.id, 'active', T0 + 4)
    await store.delete(bob.user.id, T0 + 5)
    const expected = [
      { userId: alice.user.id, rev: 0, sessionId: alice.session.id, reason: 'logout', at: T0 + 1 },
      { userId: bob.user.id, rev: 1, sessionId: null, reason: 'revoked', at: T0 + 2 },
      { userId: bob.user.id, rev: 1, sessionId: bob.session.id, reason: 'revoked', at: T0 + 2 },
      { userId: alice.user.id, rev: 1, sessionId: null, reason: 'disabled', at: T0 + 3 },
      { userId: bob.user.id, rev: 2, sessionId: null, reason: 'deleted', at: T0 + 5 },
    ]
    await feedHas(store, expected.length)
    const all = await store.revocations(undefined, 100)
    t.strictSame(all.revocations, expected)
    t.strictSame(
      (await store.revocations(empty.cursor, 100)).revocations,
      expected,
      'the empty page cursor starts at the beginning',
    )
    const pages = []
    let cursor: string | undefined
    for (;;) {
      const page = await store.revocations(cursor, 2)
      if (page.revocations.length === 0) {
        t.equal(page.cursor, cursor, 'an empty page keeps the cursor')
        break
      }
      pages.push(...page.revocations)
      cursor = page.cursor
    }
    t.strictSame(pages, expected, 'pages of two join up')
    await store.revoke(alice.user.id, T0 + 6)
    await feedHas(store, expected.length + 1)
    t.strictSame((await store.revocations(all.cursor, 100)).revocations, [
      { userId: alice.user.id, rev: 2, sessionId: null, reason: 'revoked', at: T0 + 6 },
    ])
    const made = (shape: string) => Buffer.from(shape).toString('base64url')
    const uuid = '01900000-0000-7000-8000-000000000000'
    for (const bad of [
      '',
      'nope',
      made('[-1]'),
      'W10',
      // Made-up positions of the right length: the store refuses them, never the database.
      made('["5","5"]'),
      made(`["${uuid}","${uuid}"]`),
      made(`["18446744073709551616","${uuid}"]`),
      made('[5,5]'),
    ]) {
      const refused = await store.revocations(bad, 10).catch((error) => error)
      t.match(refused, { code: 'invalid_request' }, JSON.stringify(bad))
    }
    // A cursor of each store's shape: this store reads its own and refuses the other's.
    const shapes = ['[7]', '["7","01900000-0000-7000-8000-000000000000"]']
    const answers = await Promise.all(
      shapes.map((shape) =>
        store.revocations(Buffer.from(shape).toString('base64url'), 10).then(
          () => 'read',
          (error) => error.code,
        ),
      ),
    )
    t.strictSame(answers.sort(), ['invalid_request', 'read'])
    await t.rejects(store.revocations(undefined, 0), TypeError)
  })

  t.test('audit contexts that cannot be right are TypeErrors', async (t) => {
    const store = await withStore(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    for (const context of [
      { actor: 'someone' },
      { actor: 'key:' },
      { actor: '' },
      { actor: 'cli', ip: 'a\0b' },
      { actor: 'cli', userAgent: 5 },
    ]) {
      await t.rejects(
        store.revoke(user.id, T0, 'revoked', context as AuditContext),
        TypeError,
        JSON.stringify(context),
      )
    }
    t.equal((await store.findById(user.id))?.rev, 0, 'nothing changed')
    await t.rejects(store.recordEvent({ type: 'nope' as never }, KEY, T0), TypeError)
    const long = await store.recordEvent(
      { type: 'link.failed' },
      { actor: 'cli', userAgent: 'x'.repeat(2000) },
      T0,
    )
    t.equal(long.userAgent?.length, 512, 'a long user agent is cut')
  })
}

/**
 * Requirement 19: a change and its events commit together or not at all. `refuse(type)` makes
 * the database refuse events of one type (a trigger), so a change fails after some of its own
 * writes, its first event included, have been made; nothing of it may remain.
 */
export function auditRollbackContract(t: Test, withRefusal: WithRefusal): void {
  t.test('a sign-in whose session.created fails leaves no trace', async (t) => {
    const { store, refuse } = await withRefusal(t)
    const { user } = await store.findOrCreate('alice@example.com', T0)
    await refuse('session.created')
    await t.rejects(store.consumeAndOpen(user.id, user, newSession(), T0 + 1, KEY))
    await t.rejects(store.touchAndOpen(user.id, 0, newSession(), T0 + 1, KEY))
    t.strictSame(await store.findById(user.id), user, 'seq and last login unchanged')
    t.strictSame(await store.listSessions(user.id, { since: 0, limit: 10 }), [])
    t.strictSame(await story(store), [['user.created', { created_by: 'api' }]])
  })

  t.test('a revoke or disable whose session.ended fails leaves no trace', async (t) => {
    const { store, refuse } = await withRefusal(t)
    const { user, session } = await signedIn(store)
    const before = await story(store)
    await refuse('session.ended')
    await t.rejects(store.revoke(user.id, T0 + 1, 'revoked', KEY))
    await t.rejects(store.setStatus(user.id, 'disabled', T0 + 1, KEY))
    await t.rejects(store.endSession(session.id, 'logout', T0 + 1, KEY))
    await t.rejects(store.endSessions(user.id, 'admin', T0 + 1, KEY))
    t.match(await store.findById(user.id), { rev: 0, status: 'active' }, 'rev and status stay')
    t.match(await store.findSession(session.id), { session: { endedAt: null } }, 'still open')
    t.strictSame(await story(store), before, 'no user.revoked nor user.disabled')
  })

  t.test('an email whose event fails is neither queued nor marked', async (t) => {
    const { store, refuse } = await withRefusal(t)
    const queued = await store.enqueue(message())
    await refuse('email.queued')
    await refuse('email.sent')
    await t.rejects(store.enqueue(message({ recipient: 'other@example.com' })))
    await t.rejects(store.markSent(queued.id, T0 + 1, 'provider-1'))
    t.strictSame(
      (await store.listOutbox({ limit: 10 })).map((m) => [m.id, m.status]),
      [[queued.id, 'pending']],
    )
  })

  t.test('every other change fails whole with its event', async (t) => {
    const { store, refuse } = await withRefusal(t)
    const { user, session } = await signedIn(store)
    await store.setStatus(user.id, 'disabled', T0 + 1)
    const disabled = await store.findById(user.id)
    const enabled = await store.setStatus(user.id, 'active', T0 + 2)
    const again = await store.consumeAndOpen(user.id, { rev: 1, seq: 1 }, newSession(), T0 + 3)
    const before = await story(store)
    for (const type of [
      'user.created',
      'link.verified',
      'session.refreshed',
      'user.enabled',
      'user.deleted',
    ] as const) {
      await refuse(type)
    }
    await t.rejects(store.findOrCreate('bob@example.com', T0 + 4))
    t.equal(await store.findByEmail('bob@example.com'), undefined, 'no user made')
    await t.rejects(store.consume(user.id, { rev: 1, seq: 2 }, T0 + 4))
    await t.rejects(store.touchLogin(user.id, 1, T0 + 4))
    const sessionId = again?.session.id as string
    await t.rejects(store.rotate(sessionId, { rev: 1, refreshSeq: 0 }, T0 + 4))
    t.match(await store.findSession(sessionId), { session: { refreshSeq: 0 } })
    await t.rejects(store.delete(user.id, T0 + 4))
    await store.setStatus(user.id, 'disabled', T0 + 5)
    await t.rejects(store.setStatus(user.id, 'active', T0 + 6))
    t.match(await store.findById(user.id), { status: 'disabled', seq: 2, lastLoginAt: T0 + 3 })
    t.strictSame((await story(store)).slice(0, before.length), before)
    t.ok(disabled && enabled && session)
  })
}
