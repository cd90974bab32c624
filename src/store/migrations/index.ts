/**
 * Schema migrations, shared by every store: each store runs the SQL of its own dialect, in
 * version order, and records what ran in `schema_migrations`. A migration, once released, never
 * changes; a fix is a new version.
 */
export interface Migration {
  version: number
  name: string
  sqlite: string
  postgres: string
}

/** Created before any migration runs, so it is not a migration itself. */
export const schemaMigrationsTable = {
  sqlite: `
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT;
  `,
  postgres: `
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at bigint NOT NULL
    );
  `,
} as const

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create users',
    // WITHOUT ROWID: the verify path looks a user up by id, and a table clustered on its primary
    // key answers that in one B-tree search instead of index + table. UUIDv7 ids are time-ordered,
    // so inserts still append. Emails are unique case-insensitively through the lower(email)
    // index, which is also what findByEmail and the findOrCreate conflict target use. Both
    // dialects fold ASCII letters only (SQLite's lower(); PostgreSQL's under the "C" collation,
    // whatever the database's locale), so one address is one user on either store. The counters
    // are 64-bit in both (SQLite's INTEGER; PostgreSQL's bigint).
    sqlite: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        rev INTEGER NOT NULL DEFAULT 0,
        seq INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        last_login_at INTEGER
      ) STRICT, WITHOUT ROWID;
      CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
      CREATE INDEX users_created_at ON users (created_at);
    `,
    postgres: `
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'disabled')),
        rev bigint NOT NULL DEFAULT 0,
        seq bigint NOT NULL DEFAULT 0,
        created_at bigint NOT NULL,
        last_login_at bigint
      );
      CREATE UNIQUE INDEX users_email_lower ON users (lower(email COLLATE "C"));
      CREATE INDEX users_created_at ON users (created_at);
    `,
  },
  {
    version: 2,
    name: 'create outbox',
    // The durable outbox: a row per requested email, written before the request is answered.
    // It holds what is needed to mint the link at send time, never the link itself. Rows go with
    // their user. The partial index is the worker's queue: due pending rows, oldest first.
    sqlite: `
      CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
        recipient TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        provider_id TEXT
      ) STRICT;
      CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbox_user ON outbox (user_id, created_at);
      CREATE INDEX outbox_created ON outbox (created_at);
    `,
    postgres: `
      CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        user_id uuid REFERENCES users (id) ON DELETE CASCADE,
        recipient text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
        reason text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        last_error text,
        created_at bigint NOT NULL,
        sent_at bigint,
        provider_id text
      );
      CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbox_user ON outbox (user_id, created_at);
      CREATE INDEX outbox_created ON outbox (created_at);
    `,
  },
  {
    version: 3,
    name: 'create phantoms',
    // Stable ids for addresses that have no user, so a link request for one answers like one
    // for a real user (a UUIDv7 minted at the first request, the same ever after). Keyed by an
    // HMAC of the address: the table holds no email address.
    sqlite: `
      CREATE TABLE phantoms (
        key TEXT PRIMARY KEY,
        id TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
    postgres: `
      CREATE TABLE phantoms (
        key text PRIMARY KEY,
        id uuid NOT NULL,
        created_at bigint NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'phantoms seen_at',
    // When an address without a user was last asked for, so an unused stand-in id is pruned like
    // an unused user: 30 days after the last request, not 30 days after the first (an id that
    // changed while requests kept coming would tell the address has no account).
    sqlite: `
      ALTER TABLE phantoms ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;
      UPDATE phantoms SET seen_at = created_at;
      CREATE INDEX phantoms_seen_at ON phantoms (seen_at);
    `,
    postgres: `
      ALTER TABLE phantoms ADD COLUMN seen_at bigint;
      UPDATE phantoms SET seen_at = created_at;
      ALTER TABLE phantoms ALTER COLUMN seen_at SET NOT NULL;
      CREATE INDEX phantoms_seen_at ON phantoms (seen_at);
    `,
  },
  {
    version: 5,
    name: 'users created_by',
    // Who created a user: the hosted form (anyone who can type an address) or a backend, the
    // command line or an operator. Only users the form created and who never signed in are
    // pruned: a backend may hold a user id for months, use it for reusable access links (which
    // record no sign-in) or mint links it never emails (which leave no outbox row). Users from
    // before this migration are counted as a backend's: never pruned.
    sqlite: `
      ALTER TABLE users ADD COLUMN created_by TEXT NOT NULL DEFAULT 'api';
    `,
    postgres: `
      ALTER TABLE users ADD COLUMN created_by text NOT NULL DEFAULT 'api';
    `,
  },
  {
    version: 6,
    name: 'outbox kind',
    // The outbox carries jobs of more than one kind (an email today, a webhook delivery next);
    // the kind says which handler builds and delivers a row. Every row before this was an email.
    sqlite: `
      ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'email';
    `,
    postgres: `
      ALTER TABLE outbox ADD COLUMN kind text NOT NULL DEFAULT 'email';
    `,
  },
  {
    version: 7,
    name: 'create sessions',
    // A session per signed-in device. Rows go with their user: a deleted user's devices, ip
    // addresses and user agents leave with them. Refresh looks a session up by id (the primary
    // key; WITHOUT ROWID in SQLite, as users); listing and ending a user's sessions use
    // sessions_user; pruning uses the two times. A session is ended exactly when it has a reason.
    sqlite: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        client TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_refreshed_at INTEGER,
        expires_at INTEGER NOT NULL,
        refresh_seq INTEGER NOT NULL DEFAULT 0,
        ended_at INTEGER,
        end_reason TEXT CHECK (end_reason IN ('logout', 'revoked', 'refresh_reused', 'admin',
                                              'disabled', 'deleted', 'reported')),
        ip TEXT,
        user_agent TEXT,
        CHECK ((ended_at IS NULL) = (end_reason IS NULL))
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX sessions_user ON sessions (user_id, created_at);
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
      CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE ended_at IS NOT NULL;
    `,
    postgres: `
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        client text NOT NULL,
        created_at bigint NOT NULL,
        last_refreshed_at bigint,
        expires_at bigint NOT NULL,
        refresh_seq bigint NOT NULL DEFAULT 0,
        ended_at bigint,
        end_reason text CHECK (end_reason IN ('logout', 'revoked', 'refresh_reused', 'admin',
                                              'disabled', 'deleted', 'reported')),
        ip text,
        user_agent text,
        CHECK ((ended_at IS NULL) = (end_reason IS NULL))
      );
      CREATE INDEX sessions_user ON sessions (user_id, created_at);
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
      CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE ended_at IS NOT NULL;
    `,
  },
  {
    version: 8,
    name: 'create audit_events',
    // The audit trail, written by the store in the transaction of the change it records. Events
    // outlive their user (a deletion is itself an event), so there is no foreign key. Operators
    // list by user or type, newest first (UUIDv7 ids sort by time); pruning goes by `at`. The
    // revocation feed reads the same rows in commit order: in SQLite there is one writer, so the
    // AUTOINCREMENT `seq` (never reused, even after pruning) is that order; in PostgreSQL `xid`
    // records the writing transaction, and the feed hands out only rows whose transaction is
    // older than every one still running (see postgres/audit.ts).
    sqlite: `
      CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        user_id TEXT,
        session_id TEXT,
        actor TEXT NOT NULL,
        ip TEXT,
        user_agent TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
      ) STRICT;
      CREATE INDEX audit_events_user ON audit_events (user_id, id);
      CREATE INDEX audit_events_type ON audit_events (type, id);
      CREATE INDEX audit_events_at ON audit_events (at);
    `,
    postgres: `
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY,
        at bigint NOT NULL,
        type text NOT NULL,
        user_id uuid,
        session_id uuid,
        actor text NOT NULL,
        ip text,
        user_agent text,
        detail jsonb NOT NULL DEFAULT '{}',
        xid xid8 NOT NULL DEFAULT pg_current_xact_id()
      );
      CREATE INDEX audit_events_user ON audit_events (user_id, id);
      CREATE INDEX audit_events_type ON audit_events (type, id);
      CREATE INDEX audit_events_at ON audit_events (at);
      CREATE INDEX audit_events_feed ON audit_events (xid, id)
        WHERE type IN ('user.revoked', 'user.disabled', 'user.deleted', 'session.ended');
    `,
  },
  {
    version: 9,
    name: 'create suppressions',
    // Inboxes no email goes to: for a while (a "this wasn't me" report pauses sign-in emails for
    // a day) or for good (expires_at NULL: bounces and complaints). Keyed by the inbox as the
    // recipient budget counts it (auth/inbox.ts), so one entry covers every spelling of one
    // mailbox; `email` is the address the entry was made for. Not tied to a user: an entry
    // outlives a deleted account, and may name an address that never had one.
    sqlite: `
      CREATE TABLE suppressions (
        address TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
      ) STRICT, WITHOUT ROWID;
    `,
    postgres: `
      CREATE TABLE suppressions (
        address text PRIMARY KEY,
        email text NOT NULL,
        reason text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint
      );
    `,
  },
  {
    version: 10,
    name: 'delivery feedback',
    // What the mail provider reported after it accepted an email (delivered, delayed, bounced,
    // complained), beside the status, which stays ours (pending → sent | failed | suppressed).
    // Callbacks find their row by the provider's message id. provider_events holds the ids of
    // the callbacks already processed, so a replayed one changes nothing; it is pruned once the
    // provider has stopped retrying (see auth/delivery-feedback.ts).
    sqlite: `
      ALTER TABLE outbox ADD COLUMN delivery TEXT;
      ALTER TABLE outbox ADD COLUMN delivery_at INTEGER;
      CREATE INDEX outbox_provider ON outbox (provider_id) WHERE provider_id IS NOT NULL;
      CREATE TABLE provider_events (
        id TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX provider_events_received ON provider_events (received_at);
    `,
    postgres: `
      ALTER TABLE outbox ADD COLUMN delivery text;
      ALTER TABLE outbox ADD COLUMN delivery_at bigint;
      CREATE INDEX outbox_provider ON outbox (provider_id) WHERE provider_id IS NOT NULL;
      CREATE TABLE provider_events (
        id text PRIMARY KEY,
        received_at bigint NOT NULL
      );
      CREATE INDEX provider_events_received ON provider_events (received_at);
    `,
  },
]
