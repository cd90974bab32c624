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
    // index, which is also what findByEmail and the findOrCreate conflict target use.
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
        rev integer NOT NULL DEFAULT 0,
        seq integer NOT NULL DEFAULT 0,
        created_at bigint NOT NULL,
        last_login_at bigint
      );
      CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
      CREATE INDEX users_created_at ON users (created_at);
    `,
  },
]
