import type { AuditQuery } from './audit.js'
import type { OutboxQuery } from './outbox.js'
import { EVENT_COLUMNS } from './rows.js'

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

/**
 * The operator's audit listing as SQL, for either dialect (see listOutboxSql). A type filter
 * ending in `.*` is a prefix; compose.ts allowed only letters before it, so LIKE sees no wildcard
 * but the one added here.
 */
export function listEventsSql(
  query: AuditQuery,
  param: (n: number) => string,
): { text: string; values: (string | number)[] } {
  const where: string[] = []
  const values: (string | number)[] = []
  const add = (condition: string, value: string | number) => {
    values.push(value)
    where.push(`${condition} ${param(values.length)}`)
  }
  if (query.userId !== undefined) add('user_id =', query.userId)
  if (query.type?.endsWith('.*')) add('type LIKE', `${query.type.slice(0, -1)}%`)
  else if (query.type !== undefined) add('type =', query.type)
  if (query.before !== undefined) add('id <', query.before)
  values.push(query.limit)
  const text = `SELECT ${EVENT_COLUMNS} FROM audit_events
                ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                ORDER BY id DESC LIMIT ${param(values.length)}`
  return { text, values }
}
