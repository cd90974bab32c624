/**
 * The store a bench run measures (see options.ts): a fresh SQLite file, a PostgreSQL database of
 * the bench's own (created here on the server the tests use, dropped at the end), or the existing
 * one BENCH_DATABASE_URL names.
 */
import { createDatabase } from '../test/helpers/postgres.js'
import { DATABASE_URL, POSTGRES } from './options.js'
import { atExit } from './run.js'

export interface BenchStore {
  /** 'SQLite' or 'PostgreSQL'. */
  label: string
  /** latchkey's settings that choose this store. */
  env: Record<string, string>
}

/**
 * A store nobody used yet, its files under `dir`. An existing database (BENCH_DATABASE_URL) is
 * taken as it is, so only a script that needs one store may use it.
 */
export async function freshStore(dir: string): Promise<BenchStore> {
  if (DATABASE_URL) return { label: 'PostgreSQL', env: { DATA_DIR: dir, DATABASE_URL } }
  if (!POSTGRES) return { label: 'SQLite', env: { DATA_DIR: dir } }
  const database = await createDatabase('latchkey_bench')
  // The drop disconnects a server child that is still connected.
  atExit(() => database.drop())
  return { label: 'PostgreSQL', env: { DATA_DIR: dir, DATABASE_URL: database.url } }
}
