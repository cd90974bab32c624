import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * The PostgreSQL server tests use: the machine's own (127.0.0.1:5432, user postgres, trust) unless
 * POSTGRES_TEST_URL names another. Tests never touch an existing database: each run creates
 * its own and drops it at the end.
 */
export const POSTGRES_SERVER =
  process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Runs one statement on the server's maintenance database. */
export async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export interface TestDatabase {
  name: string
  /** A URL for the new database. */
  url: string
  /** The URL with a search_path of its own: a fresh, empty schema in the same database. */
  schemaUrl(): Promise<string>
  /** Drops the database, disconnecting whoever still uses it. */
  drop(): Promise<void>
}

/** A new, empty database, named so that parallel test files never meet. */
export async function createDatabase(prefix = 'latchkey_test'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  const url = urlFor(name)
  let schemas = 0
  return {
    name,
    url,
    async schemaUrl() {
      const schema = `s${++schemas}`
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(`CREATE SCHEMA ${schema}`)
      } finally {
        await client.end()
      }
      return `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`
    },
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  }
}

/** The URL of a database on the test server. */
export function urlFor(database: string): string {
  const url = new URL(POSTGRES_SERVER)
  url.pathname = `/${database}`
  return url.toString()
}
