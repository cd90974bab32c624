import type { Test } from 'tap'
import type { Store } from '../../../src/store/index.js'
import type { NewOutboxMessage, OutboxMessage } from '../../../src/store/outbox.js'
import type { NewSession, SessionWithUser } from '../../../src/store/sessions.js'

/**
 * A fresh, empty store, and how to throw its data away after `close()`. `another`, when the
 * store can have one, opens a second handle on the same data (its own connections), as a second
 * process or instance would.
 */
export type MakeStore = () => Promise<{
  store: Store
  cleanup: () => Promise<void>
  another?: () => Promise<Store>
  /**
   * When the store's database can be reached beside it: makes it refuse, from now on, to store
   * audit events of this type (a trigger), so a change can be made to fail midway.
   */
  refuse?: (type: string) => Promise<void>
}>

/** A fresh store whose database can be told to refuse events (see MakeStore); or undefined. */
export type WithRefusal = (
  t: Test,
) => Promise<{ store: Store; refuse: (type: string) => Promise<void> }>

/** A fresh store for one subtest, closed and cleaned up when that subtest ends. */
export type WithStore = (t: Test) => Promise<Store>

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
export const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000'
export const T0 = 1_700_000_000_000

export const LEASE = 60_000
export const DAY = 86_400_000

/** A payload that exercises the JSON round trip: nesting, every JSON type, unicode, escapes. */
export const PAYLOAD = {
  kind: 'sign-in',
  token: { purpose: 'login', rev: 0, seq: 3, exp: T0 + 900_000, reusable: false },
  context: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', locale: 'de-CH' },
  greeting: 'Grüße, Zoë! 日本語 · ελληνικά · עברית · 🔑✉️',
  escapes: 'line\nbreak\ttab "quoted" \\ back\\slash </script>',
  values: [1, -2, 2.5, 0, true, false, null, '', [[[]]], {}],
  nested: { a: { b: { c: { d: ['deep', { e: 'ü' }] } } } },
}

export const message = (overrides: Partial<NewOutboxMessage> = {}): NewOutboxMessage => ({
  kind: 'email',
  userId: null,
  recipient: 'someone@example.com',
  payload: { kind: 'sign-in' },
  now: T0,
  ...overrides,
})

/** A row the worker decided not to send, by design: enqueued, then suppressed with why. */
export async function enqueueSuppressed(
  store: Store,
  reason: string,
  overrides: Partial<NewOutboxMessage> = {},
): Promise<OutboxMessage> {
  const row = await store.enqueue(message(overrides))
  await store.markSuppressed(row.id, reason, T0)
  return { ...row, status: 'suppressed', reason }
}

export const ids = (rows: readonly OutboxMessage[]): string[] => rows.map((m) => m.id)
export const sortedById = (rows: readonly OutboxMessage[]): OutboxMessage[] =>
  [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/** The store, and a way to open a second handle on its data when the store has one. */
export type WithHandles = (t: Test) => Promise<{
  store: Store
  another: (() => Promise<Store>) | undefined
  refuse?: ((type: string) => Promise<void>) | undefined
}>

/** One row as stored, through the public API only. */
export const find = async (store: Store, id: string): Promise<OutboxMessage | undefined> =>
  (await store.listOutbox({ limit: 1000 })).find((m) => m.id === id)

/**
 * The outbox half of the contract. Rows are compared with strictSame: a networked driver that
 * hands back bigint columns or counts as strings must convert them.
 */

/** SESSION_MAX_AGE's default. */
export const MAX_AGE = 90 * DAY

export const newSession = (overrides: Partial<NewSession> = {}): NewSession => ({
  client: 'backend',
  expiresAt: T0 + MAX_AGE,
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Grüße',
  ...overrides,
})

/** A user with one session opened by a consume at T0. */
export async function signedIn(
  store: Store,
  email = 'alice@example.com',
  overrides: Partial<NewSession> = {},
): Promise<SessionWithUser> {
  const { user } = await store.findOrCreate(email, T0)
  const opened = await store.consumeAndOpen(user.id, user, newSession(overrides), T0)
  if (!opened) throw new Error('the first consume must open a session')
  return opened
}
