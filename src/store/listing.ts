import type { OutboxQuery } from './outbox.js'

/**
 * The operator's outbox listing as SQL, for either dialect: `param(n)` spells the n-th
 * placeholder (`?` in SQLite, `$n` in PostgreSQL). Built from fixed fragments only; every value
 * is a bound parameter. Off the hot path, so each call compiles its own statement.
 */
export function listOutboxSql(
  query: OutboxQuery,
  param: (n: number) => string,
): { text: string; values: (string | number)[] } {
  const where: string[] = []
  const values: (string | number)[] = []
  const add = (condition: string, value: string | number) => {
    values.push(value)
    where.push(`${condition} ${param(values.length)}`)
  }
  if (query.status !== undefined) add('status =', query.status)
  if (query.kind !== undefined) add('kind =', query.kind)
  if (query.userId !== undefined) add('user_id =', query.userId)
  if (query.before !== undefined) add('id <', query.before)
  values.push(query.limit)
  const text = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                ORDER BY id DESC LIMIT ${param(values.length)}`
  return { text, values }
}
