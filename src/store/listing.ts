import type { AuditQuery } from './audit.js'
import type { OutboxQuery } from './outbox.js'
import { EVENT_COLUMNS } from './rows.js'

type Param = (n: number) => string
type Value = string | number

/**
 * A WHERE clause grown one condition at a time, for either dialect: `param(n)` spells the n-th
 * placeholder (`?` in SQLite, `$n` in PostgreSQL). Built from fixed fragments only; every value
 * is a bound parameter.
 */
function filter(param: Param) {
  const where: string[] = []
  const values: Value[] = []
  const bind = (value: Value) => {
    values.push(value)
    return param(values.length)
  }
  return {
    values,
    add: (condition: string, value: Value) => where.push(`${condition} ${bind(value)}`),
    /** The WHERE clause so far, and a LIMIT bound last. */
    tail: (limit: number) =>
      `${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${bind(limit)}`,
  }
}

/** The operator's outbox listing as SQL. Off the hot path: each call compiles its statement. */
export function listOutboxSql(query: OutboxQuery, param: Param): { text: string; values: Value[] } {
  const f = filter(param)
  if (query.status !== undefined) f.add('status =', query.status)
  if (query.kind !== undefined) f.add('kind =', query.kind)
  if (query.userId !== undefined) f.add('user_id =', query.userId)
  if (query.before !== undefined) f.add('id <', query.before)
  return { text: `SELECT * FROM outbox ${f.tail(query.limit)}`, values: f.values }
}

/**
 * The operator's audit listing as SQL. A type filter ending in `.*` is a prefix; compose.ts
 * allowed only letters before it, so LIKE sees no wildcard but the one added here.
 */
export function listEventsSql(query: AuditQuery, param: Param): { text: string; values: Value[] } {
  const f = filter(param)
  if (query.userId !== undefined) f.add('user_id =', query.userId)
  if (query.type?.endsWith('.*')) f.add('type LIKE', `${query.type.slice(0, -1)}%`)
  else if (query.type !== undefined) f.add('type =', query.type)
  if (query.before !== undefined) f.add('id <', query.before)
  const text = `SELECT ${EVENT_COLUMNS} FROM audit_events ${f.tail(query.limit)}`
  return { text, values: f.values }
}
