import t from 'tap'
import type { AuthDeps } from '../../src/auth/deps.js'
import { linkViewStats, parseSince } from '../../src/auth/link-stats.js'
import { InvalidRequest } from '../../src/errors.js'
import type { AuditEvent, AuditQuery } from '../../src/store/audit.js'
import type { OutboxMessage, OutboxQuery } from '../../src/store/outbox.js'

// The link-views summary over the stores' listings: its definitions case by case, its window,
// and its bound on rows read. The HTTP test (test/http/link-views.test.ts) runs it end to end
// on both stores.

const NOW = Date.UTC(2030, 0, 8)
const USER = '01900000-0000-7000-8000-000000000001'
let ids = 0
const nextId = () => `01900000-0000-7000-8000-${String(++ids).padStart(12, '0')}`

function email(recipient: string, expiresAt: number, createdAt: number, userId = USER) {
  return {
    id: nextId(),
    kind: 'email',
    userId,
    recipient,
    payload: { expiresAt, rev: 0, seq: 0 },
    status: 'sent',
    reason: null,
    attempts: 1,
    nextAttemptAt: createdAt,
    lastError: null,
    createdAt,
    sentAt: createdAt,
    providerId: null,
    delivery: null,
    deliveryAt: null,
  } satisfies OutboxMessage
}

function event(type: 'link.viewed' | 'link.verified', at: number, detail: Record<string, unknown>) {
  return {
    id: nextId(),
    at,
    type,
    userId: USER,
    sessionId: null,
    actor: 'hosted',
    ip: null,
    userAgent: null,
    detail,
  } satisfies AuditEvent
}

/** A store that lists as the real ones do: newest (highest id) first, `before` a cursor. */
function fakeDeps(outbox: OutboxMessage[], audit: AuditEvent[], reads: { n: number }) {
  const page = <T extends { id: string }>(rows: T[], before: string | undefined, limit: number) => {
    reads.n++
    return rows
      .filter((row) => before === undefined || row.id < before)
      .toSorted((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, limit)
  }
  const store = {
    listOutbox: async (q: OutboxQuery) =>
      page(
        outbox.filter((m) => m.kind === q.kind && m.status === q.status),
        q.before,
        q.limit,
      ),
    listEvents: async (q: AuditQuery) =>
      page(
        audit.filter((e) => e.type === q.type),
        q.before,
        q.limit,
      ),
  }
  return { store, clock: () => NOW } as unknown as Pick<AuthDeps, 'store' | 'clock'>
}

const view = (at: number, cookie: boolean, expiresAt: number) =>
  event('link.viewed', at, { expires_at: expiresAt, cookie, method: 'GET' })

t.test('since: a duration back from now, or an ISO 8601 time', async (t) => {
  t.equal(parseSince('7d', NOW), NOW - 7 * 86_400_000)
  t.equal(parseSince('24h', NOW), NOW - 86_400_000)
  t.equal(parseSince('30m', NOW), NOW - 1_800_000)
  t.equal(parseSince('36500d', NOW), NOW - 36_500 * 86_400_000, 'a century is the longest')
  t.equal(parseSince('2030-01-01', NOW), Date.UTC(2030, 0, 1))
  t.equal(parseSince('2030-01-07T12:00:00Z', NOW), Date.UTC(2030, 0, 7, 12))
  t.equal(parseSince('2030-01-07T12:00:00+02:00', NOW), Date.UTC(2030, 0, 7, 10))
  for (const bad of [
    '',
    '7x',
    'd7',
    '-7d',
    'last week',
    '2030-02-30X',
    '1 Jan 2030',
    '2031-01-01',
    '36501d',
    '9999999999d',
  ]) {
    t.throws(() => parseSince(bad, NOW), InvalidRequest, JSON.stringify(bad))
  }
})

t.test('the person on another device: their view is the last one before the use', async (t) => {
  const start = NOW - 3600_000
  const e1 = start / 1000 + 900
  const outbox = [email('a@x.example', e1, start)]
  const audit = [
    view(start + 2000, false, e1), // the scanner
    view(start + 40_000, false, e1), // the person, on their phone
    event('link.verified', start + 45_000, { expires_at: e1, one_time: true }),
    view(start + 50_000, false, e1), // a look afterwards
  ]
  const stats = await linkViewStats(fakeDeps(outbox, audit, { n: 0 }), {})
  t.same(stats.domains, [
    {
      domain: 'x.example',
      linksIssued: 1,
      linksOpened: 1,
      openedBeforePerson: 1,
      openedOnlyWithoutCookie: 0,
      used: 1,
      medianSecondsToFirstView: 2,
    },
  ])
})

t.test(
  'a link used at once is not opened before the person; used without a view neither',
  async (t) => {
    const start = NOW - 3600_000
    const [e1, e2] = [start / 1000 + 900, start / 1000 + 901]
    const outbox = [email('a@x.example', e1, start), email('a@x.example', e2, start + 1000)]
    const audit = [
      view(start + 4000, true, e1),
      event('link.verified', start + 5000, { expires_at: e1 }),
      event('link.verified', start + 6000, { expires_at: e2 }),
    ]
    const [domain] = (await linkViewStats(fakeDeps(outbox, audit, { n: 0 }), {})).domains
    t.match(domain, { linksIssued: 2, linksOpened: 1, used: 2, openedBeforePerson: 0 })
    t.equal(domain?.medianSecondsToFirstView, 4)
  },
)

t.test('only links sent in the window count, and only their views', async (t) => {
  const old = NOW - 8 * 86_400_000
  const e1 = old / 1000 + 900
  const stats = await linkViewStats(
    fakeDeps([email('a@x.example', e1, old)], [view(old + 1000, false, e1)], { n: 0 }),
    { since: '7d' },
  )
  t.same(stats.domains, [])
  t.equal(stats.truncated, false)
})

t.test('the rows read are bounded, and the answer says when the bound was hit', async (t) => {
  const start = NOW - 3600_000
  const outbox = Array.from({ length: 10 }, (_, i) =>
    email(`p${i}@x.example`, start / 1000 + 900 + i, start + i * 1000),
  )
  const reads = { n: 0 }
  const cut = await linkViewStats(fakeDeps(outbox, [], reads), {}, { maxRows: 4, page: 2 })
  t.equal(cut.truncated, true, 'the bound was reached')
  t.equal(cut.domains[0]?.linksIssued, 4, 'the newest rows, up to the bound')
  const whole = await linkViewStats(fakeDeps(outbox, [], reads), {}, { maxRows: 100, page: 3 })
  t.equal(whole.truncated, false)
  t.equal(whole.domains[0]?.linksIssued, 10, 'paged through with the cursor')
})
