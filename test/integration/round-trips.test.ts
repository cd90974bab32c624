import pg from 'pg'
import t from 'tap'
import { asService, build } from '../helpers/app.js'
import { apiLink, postVerify } from '../helpers/http.js'
import { createDatabase } from '../helpers/postgres.js'

// DESIGN's hot paths on PostgreSQL, counted as statements sent: a verify that signs in is one
// (the consume, the session and the user in one statement), a refresh of the current token is
// one (the compare-and-increment), an introspection one (the session joined with its user), and
// a forged token none. Each statement is one round trip: pg sends a prepared statement's parse,
// bind and execute together.

let statements = 0
const query = pg.Client.prototype.query
pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
  statements++
  return (query as (...a: unknown[]) => unknown).apply(this, args)
} as typeof query
t.teardown(() => {
  pg.Client.prototype.query = query
})

const db = await createDatabase('latchkey_round_trips')
t.teardown(() => db.drop())
const { app } = await build(t, { env: { DATABASE_URL: db.url } })

async function count(work: () => Promise<unknown>): Promise<number> {
  const before = statements
  await work()
  return statements - before
}

const post = (url: string, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url, headers: asService, payload })

t.test('one statement per verify, refresh and introspection; none for a forgery', async (t) => {
  // Warm: the pool's connections open and prepare their statements on first use.
  for (let i = 0; i < 3; i++) {
    const { token } = await apiLink(app, { email: `warm-${i}@example.com` })
    const grant = (await postVerify(app, { token })).json().session
    await post('/v1/sessions/refresh', { refresh_token: grant.refresh_token })
  }

  const { token } = await apiLink(app, { email: 'counted@example.com' })
  let grant: { jwt: string; refresh_token: string } | undefined
  const verify = await count(async () => {
    const res = await postVerify(app, { token })
    t.equal(res.statusCode, 200)
    grant = res.json().session
  })
  t.equal(verify, 1, 'verify of a one-time login link: one statement')
  const refreshed = await count(async () => {
    const res = await post('/v1/sessions/refresh', { refresh_token: grant?.refresh_token })
    t.equal(res.statusCode, 200)
  })
  t.equal(refreshed, 1, 'refresh of the current token: one statement')
  const introspected = await count(async () => {
    const res = await post('/v1/sessions/introspect', { jwt: grant?.jwt })
    t.equal(res.json().active, true)
  })
  t.equal(introspected, 1, 'introspection: one statement')
  const forged = `${token.slice(0, 40)}${token[40] === 'A' ? 'B' : 'A'}${token.slice(41)}`
  const rejected = await count(async () => {
    t.equal((await postVerify(app, { token: forged })).statusCode, 401)
  })
  t.equal(rejected, 0, 'a forged token: none')
})
