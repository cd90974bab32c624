/**
 * The settings every bench script shares: how hard and how long to load, and which store to
 * measure. Read once, from the environment and the command line.
 */

/** The connection count the performance targets are stated at; one request in flight on each. */
export const CONNECTIONS = 32
export const PIPELINING = 1

export const SECONDS = positiveInt('BENCH_SECONDS', 10)
export const WARMUP_SECONDS = positiveInt('BENCH_WARMUP_SECONDS', 3)

/**
 * How the store is chosen: BENCH_DATABASE_URL names an existing, empty PostgreSQL database;
 * `--postgres` (or BENCH_POSTGRES=1) makes a database of the bench's own on the server the tests
 * use (POSTGRES_TEST_URL, postgres://postgres@127.0.0.1:5432/postgres by default) and drops it at
 * the end; otherwise the embedded SQLite file in a temporary directory.
 */
export const DATABASE_URL = process.env.BENCH_DATABASE_URL?.trim() || undefined
const ARGS = process.argv.slice(2)
for (const arg of ARGS) if (arg !== '--postgres') throw new Error(`unknown argument: ${arg}`)
export const POSTGRES = ARGS.includes('--postgres') || process.env.BENCH_POSTGRES === '1'

export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]?.replace(/_/g, '')
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer`)
  return Number(raw)
}
