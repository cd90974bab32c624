import * as path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import t, { type Test } from 'tap'
import { v7 as uuidv7 } from 'uuid'
import { webhookJobs } from '../../src/events/webhooks.js'
import type { EventAnnouncer } from '../../src/store/announce.js'
import type { AuditContext } from '../../src/store/audit.js'
import type { Store, StoreOptions } from '../../src/store/index.js'
import { openPostgresStore } from '../../src/store/postgres/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { createDatabase } from '../helpers/postgres.js'
import { tempDir } from '../helpers/temp.js'

// Requirement 19 for webhooks: the store writes an event's webhook rows in the transaction (on
// PostgreSQL: the statement) that records the event, with the event as written, and rings only
// once they have committed. Both stores, the same assertions.

const T0 = 1_700_000_000_000
const KEY: AuditContext = { actor: 'key:svc', ip: '203.0.113.9', userAgent: 'curl/8' }
const SETTINGS = {
  urls: ['https://a.example/in?token=x', 'https://b.example/hooks'],
  events: ['*'],
}

interface Opened {
  store: Store
  /** Makes the database refuse events of one type (a trigger), so a change fails midway. */
  refuse(type: string): Promise<void>
}
type Open = (t: Test, options: StoreOptions) => Promise<Opened>

const pgDatabase = await createDatabase()
t.teardown(() => pgDatabase.drop())

const openers: Record<string, Open> = {
  sqlite: async (t, options) => {
    const file = path.join(tempDir(t), 'latchkey.db')
    const store = openSqliteStore(file, options)
    t.teardown(() => store.close())
    return {
      store,
      refuse: async (type) => {
        const db = new Database(file)
        try {
          db.exec(`CREATE TRIGGER "refuse ${type}" BEFORE INSERT ON audit_events
                   WHEN NEW.type = '${type}' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
        } finally {
          db.close()
        }
      },
    }
  },
  postgres: async (t, options) => {
    const url = await pgDatabase.schemaUrl()
    const store = openPostgresStore(url, { poolSize: 2, ...options })
    t.teardown(() => store.close())
    await store.migrate()
    return {
      store,
      refuse: async (type) => {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        try {
          await client.query(`CREATE OR REPLACE FUNCTION refuse_event() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`)
          await client.query(`CREATE TRIGGER "refuse ${type}" BEFORE INSERT ON audit_events
            FOR EACH ROW WHEN (NEW.type = '${type}') EXECUTE FUNCTION refuse_event()`)
        } finally {
          await client.end()
        }
      },
    }
  },
}

/** An announcer as the app makes one (webhookJobs), counting its bells. */
const announcer = (events = SETTINGS.events) => {
  const bells: number[] = []
  const it: EventAnnouncer = {
    rowsFor: (event) => webhookJobs(event, { ...SETTINGS, events }),
    queued: () => bells.push(bells.length + 1),
  }
  return { it, bells }
}

const newSession = () => ({
  id: uuidv7(),
  client: 'svc',
  expiresAt: T0 + 3_600_000,
  ip: '198.51.100.7',
  userAgent: 'Firefox',
})

/** The webhook rows' payloads, in the order they were queued. */
const payloads = async (store: Store) =>
  (await store.listOutbox({ kind: 'webhook', limit: 100 })).reverse().map(
    (m): Record<string, unknown> => ({
      recipient: m.recipient,
      userId: m.userId,
      ...(m.payload as object),
    }),
  )

for (const [name, open] of Object.entries(openers)) {
  t.test(name, async (t) => {
    t.test('a sign-in, a revoke and a logout queue their webhooks with the events', async (t) => {
      const { it, bells } = announcer()
      const { store } = await open(t, { announcer: it })
      const { user } = await store.findOrCreate('ada@example.com', T0, 'api', KEY)
      const opened = await store.consumeAndOpen(user.id, user, newSession(), T0 + 1, KEY)
      if (!opened) throw new Error('no session')
      await store.revoke(user.id, T0 + 2, 'revoked', KEY)
      const again = await store.touchAndOpen(user.id, 1, newSession(), T0 + 3, KEY)
      if (!again) throw new Error('no second session')
      await store.endSession(again.session.id, 'logout', T0 + 4, KEY)
      await Promise.resolve() // SQLite rings from a microtask, once the transaction is over

      const events = (await store.listEvents({ limit: 100 })).reverse()
      const rows = await payloads(store)
      t.equal(rows.length, events.length * 2, 'every event, to both receivers')
      t.same(
        rows.map((r) => r.recipient),
        events.flatMap(() => ['https://a.example/in', 'https://b.example/hooks']),
        'the receivers without their query',
      )
      t.same(
        rows.filter((_, i) => i % 2 === 0),
        events.map((e) => ({
          recipient: 'https://a.example/in',
          userId: null,
          event_id: e.id,
          type: e.type,
          timestamp: new Date(e.at).toISOString(),
          url: 'https://a.example/in?token=x',
          data: {
            user_id: e.userId,
            session_id: e.sessionId,
            actor: 'key:svc',
            ip: '203.0.113.9',
            user_agent: 'curl/8',
            detail: e.detail,
          },
        })),
        'each row is its event as written',
      )
      t.same(
        events.map((e) => e.type),
        [
          'user.created',
          'link.verified',
          'session.created',
          'user.revoked',
          'session.ended',
          'link.verified',
          'session.created',
          'session.ended',
        ],
      )
      t.match(events[4], { sessionId: opened.session.id, detail: { reason: 'revoked', rev: 1 } })
      t.equal(bells.length, 5, 'one bell per change that queued something')
    })

    t.test('WEBHOOK_EVENTS decides; a change that writes no event queues nothing', async (t) => {
      const { it, bells } = announcer(['user.*'])
      const { store } = await open(t, { announcer: it })
      const { user } = await store.findOrCreate('bob@example.com', T0, 'api', KEY)
      await store.consumeAndOpen(user.id, user, newSession(), T0 + 1, KEY)
      t.equal(
        await store.consumeAndOpen(user.id, user, newSession(), T0 + 2, KEY),
        undefined,
        'a link used twice opens nothing',
      )
      await store.setStatus(user.id, 'disabled', T0 + 3, KEY)
      await store.setStatus(user.id, 'disabled', T0 + 4, KEY)
      await Promise.resolve()
      t.same(
        (await payloads(store)).map((r) => r.type),
        ['user.created', 'user.created', 'user.disabled', 'user.disabled'],
      )
      t.ok(bells.length >= 2)
    })

    t.test('a rolled-back change queues no webhook', async (t) => {
      const { it } = announcer()
      const { store, refuse } = await open(t, { announcer: it })
      const { user } = await store.findOrCreate('cy@example.com', T0, 'api', KEY)
      const signedIn = await store.consumeAndOpen(user.id, user, newSession(), T0 + 1, KEY)
      if (!signedIn) throw new Error('no session')
      const before = await payloads(store)
      // The first event of each change is written, with its rows, before the refused one.
      await refuse('session.created')
      await refuse('session.ended')
      await t.rejects(store.touchAndOpen(user.id, 0, newSession(), T0 + 2, KEY))
      await t.rejects(store.revoke(user.id, T0 + 3, 'revoked', KEY))
      await t.rejects(store.endSession(signedIn.session.id, 'logout', T0 + 4, KEY))
      t.same(await payloads(store), before, 'no webhook row of any of them')
      t.match(await store.findById(user.id), { rev: 0 })
    })

    t.test('without an announcer nothing is queued', async (t) => {
      const { store } = await open(t, {})
      const { user } = await store.findOrCreate('dee@example.com', T0, 'api', KEY)
      await store.consumeAndOpen(user.id, user, newSession(), T0 + 1, KEY)
      t.same(await payloads(store), [])
    })
  })
}
