import pg from 'pg'
import { Unavailable } from '../../errors.js'
import { migrate } from './migrate.js'

/** A named statement: pg prepares it once per connection, then sends only parameters. */
export type Statement = { name: string; text: string }

/** SQLSTATE 42P01: a table the statement names does not exist. */
const UNDEFINED_TABLE = '42P01'

/** Times, counters and counts are bigint columns: all fit a JavaScript number exactly. */
const INT8 = 20
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

export function createPool(url: string, poolSize: number): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: poolSize,
    // However the database fails, a request gets its 503 within seconds: a connection that
    // cannot be made in 5 s, a statement the server runs for over 10 s (stuck behind a
    // lock), or an answer that never arrives within 12 s (a network silently dropping
    // packets, where only the client can tell). Keep-alive finds dead idle connections.
    connectionTimeoutMillis: 5_000,
    statement_timeout: 10_000,
    query_timeout: 12_000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    application_name: 'latchkey',
    types,
  })
}

/**
 * The pool as the aggregates use it. Nothing is done at construction: the first query connects
 * and applies pending migrations, so an instance started while the database is down comes up,
 * reports not ready, and recovers on its own when the database answers. Every failure reaches
 * the caller as Unavailable.
 */
export class Connection {
  readonly #pool: pg.Pool
  #schema: Promise<void> | undefined
  #schemaReady = false
  #closed = false

  constructor(pool: pg.Pool) {
    this.#pool = pool
    // An idle connection that the server drops (restart, database dropped, network) emits here;
    // without a listener that would crash the process. The pool discards the connection, and
    // the next query opens a fresh one or reports the outage as Unavailable.
    pool.on('error', () => undefined)
  }

  async rows<R extends pg.QueryResultRow>(statement: Statement, values: unknown[]): Promise<R[]> {
    return (await this.query<R>(statement, values)).rows
  }

  /** Every query goes through here: schema first, then the pool. An empty name: unprepared. */
  async query<R extends pg.QueryResultRow>(
    statement: Statement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    await this.#ready()
    const config = statement.name === '' ? { text: statement.text } : statement
    try {
      return await this.#pool.query<R>({ ...config, values })
    } catch (error) {
      // The tables are gone (the database was dropped and made again): migrate, and try once
      // more, rather than failing until a restart.
      if ((error as { code?: unknown }).code !== UNDEFINED_TABLE) throw unavailable(error)
      this.#schemaReady = false
      await this.ensureSchema()
      try {
        return await this.#pool.query<R>({ ...config, values })
      } catch (again) {
        throw unavailable(again)
      }
    }
  }

  /** `work` on one connection inside BEGIN … COMMIT; failures roll back. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.#ready()
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (error) {
      throw unavailable(error)
    }
    // As in migrate(): a checked-out connection's 'error' event must have a listener.
    const ignore = () => undefined
    client.on('error', ignore)
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      client.removeListener('error', ignore)
      client.release()
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      client.removeListener('error', ignore)
      client.release(true)
      throw unavailable(error)
    }
  }

  /** One attempt at a time; a failed attempt is forgotten, so the next query tries again. */
  ensureSchema(): Promise<void> {
    if (this.#closed) return Promise.reject(closed())
    this.#schema ??= migrate(this.#pool).then(
      () => {
        this.#schemaReady = true
        this.#schema = undefined
      },
      (error: unknown) => {
        this.#schema = undefined
        throw unavailable(error)
      },
    )
    return this.#schema
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw closed()
    if (!this.#schemaReady) await this.ensureSchema()
  }
}

const closed = () => new Unavailable('The user store is closed.')

/** A database failure (unreachable, timed out, dropped, refused) is an outage to the caller. */
function unavailable(error: unknown): Unavailable {
  if (error instanceof Unavailable) return error
  return new Unavailable('The user store is unavailable.', { cause: error })
}
