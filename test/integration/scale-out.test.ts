import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { generateSessionKey } from '../../src/sessions/jwt.js'
import { decodeToken } from '../../src/tokens/codec.js'
import { startFakeResend } from '../helpers/fake-resend.js'
import { until } from '../helpers/poll.js'
import { createDatabase } from '../helpers/postgres.js'
import { isolated, REDIS_URL } from '../helpers/redis.js'
import { type Service, startService } from '../helpers/service.js'
import { tempDir } from '../helpers/temp.js'

/**
 * Two real service processes on different ports, as behind a load balancer: one PostgreSQL
 * database, one Redis, one set of keys, both outbox workers running, mail through the real
 * resend SDK to a fake that records every request it gets.
 */
const service = generateApiKey('backend', 'service')
const admin = generateApiKey('ops', 'admin')
const db = await createDatabase('latchkey_scale')
const fake = await startFakeResend()
const { prefix } = await isolated(t)
t.teardown(async () => {
  await fake.close()
  await db.drop()
})
const dataDir = tempDir(t, 'latchkey-scale-')

const env = {
  DATABASE_URL: db.url,
  DATA_DIR: dataDir,
  PUBLIC_URL: 'https://login.example.test',
  LINK_SECRETS: `1:${randomBytes(32).toString('base64url')}`,
  SESSION_KEYS: JSON.stringify([await generateSessionKey({ kid: 'scale' })]),
  API_KEYS: `${service.entry},${admin.entry}`,
  MAIL_TRANSPORT: 'resend',
  RESEND_API_KEY: fake.apiKey,
  RESEND_BASE_URL: fake.url,
  MAIL_FROM: 'latchkey <login@example.test>',
  REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  RATE_LIMIT_RECIPIENT: '3/15m',
}

const a = await startService(t, env)
const b = await startService(t, env)

const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T
const issue = async (t: Test, on: Service, body: Record<string, unknown>) => {
  const res = await on.request('/v1/links', { body, apiKey: service.key })
  t.equal(res.status, 202, `issued on ${on === a ? 'A' : 'B'}`)
  return json<{ user_id: string; link?: string }>(res)
}
const tokenOf = (link: string) => new URL(link).searchParams.get('token') as string
const verify = (on: Service, token: string) =>
  on.request('/v1/links/verify', { body: { token }, apiKey: service.key })

t.test('both instances are ready on the one database', async (t) => {
  for (const s of [a, b]) t.equal((await s.request('/readyz')).status, 200)
})

t.test('a link issued on A verifies on B, once', async (t) => {
  const { link, user_id } = await issue(t, a, { email: 'ann@example.com', deliver: 'none' })
  const first = await verify(b, tokenOf(link as string))
  t.equal(first.status, 200)
  t.equal((await json<{ user: { id: string } }>(first)).user.id, user_id)
  const again = await verify(a, tokenOf(link as string))
  t.equal(again.status, 401)
  t.equal((await json(again)).code, 'token_used', 'and A knows it was used on B')
})

t.test('20 concurrent consumes split across A and B: exactly one succeeds', async (t) => {
  const { link } = await issue(t, a, { email: 'race@example.com', deliver: 'none' })
  const token = tokenOf(link as string)
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => verify(i % 2 ? a : b, token)),
  )
  const statuses = answers.map((r) => r.status)
  const codes = await Promise.all(answers.map(async (r) => (await json(r)).code))
  t.equal(statuses.filter((s) => s === 200).length, 1, 'one success')
  t.equal(codes.filter((c) => c === 'token_used').length, 19, 'nineteen token_used')
})

t.test('a revoke on B is seen by A at once', async (t) => {
  const email = 'rev@example.com'
  const { link: signIn } = await issue(t, a, { email, deliver: 'none' })
  const session = await json<{ session: { jwt: string; refresh_token: string } }>(
    await verify(a, tokenOf(signIn as string)),
  )
  const { link: pending, user_id } = await issue(t, a, { email, deliver: 'none' })

  const revoked = await b.request(`/v1/admin/users/${user_id}/revoke`, {
    method: 'POST',
    apiKey: admin.key,
  })
  t.equal(revoked.status, 200)

  const link = await verify(a, tokenOf(pending as string))
  t.equal((await json(link)).code, 'token_revoked', 'the link dies on A')
  const introspect = await a.request('/v1/sessions/introspect', {
    body: { jwt: session.session.jwt },
    apiKey: service.key,
  })
  t.match(await json(introspect), { active: false }, 'the session is inactive on A')
  const refresh = await a.request('/v1/sessions/refresh', {
    body: { refresh_token: session.session.refresh_token },
    apiKey: service.key,
  })
  t.equal((await json(refresh)).code, 'token_revoked', 'the refresh token dies on A')
})

interface Grant {
  jwt: string
  refresh_token: string
  session_id: string
}
const nameOf = (on: Service) => (on === a ? 'A' : 'B')
/** A new user signed in on `on`: their id and the session's grant. */
const signIn = async (t: Test, on: Service, email: string) => {
  const { link, user_id } = await issue(t, on, { email, deliver: 'none' })
  const res = await verify(on, tokenOf(link as string))
  t.equal(res.status, 200, `signed in on ${nameOf(on)}`)
  return { userId: user_id, grant: (await json<{ session: Grant }>(res)).session }
}
const refresh = (on: Service, refresh_token: string) =>
  on.request('/v1/sessions/refresh', { body: { refresh_token }, apiKey: service.key })
const introspect = async (on: Service, jwt: string) =>
  json(await on.request('/v1/sessions/introspect', { body: { jwt }, apiKey: service.key }))
const sessionsOf = async (on: Service, userId: string) =>
  (
    await json<{ sessions: Record<string, unknown>[] }>(
      await on.request(`/v1/admin/users/${userId}/sessions`, { apiKey: admin.key }),
    )
  ).sessions

t.test('a session opened on A refreshes on B, and its next token on A', async (t) => {
  const { grant } = await signIn(t, a, 'roam@example.com')
  const onB = await refresh(b, grant.refresh_token)
  t.equal(onB.status, 200, 'B refreshes a session A opened')
  const second = await json<Grant>(onB)
  t.equal(second.session_id, grant.session_id, 'the same session')
  t.not(second.refresh_token, grant.refresh_token, 'rotated')
  t.match(
    await introspect(a, second.jwt),
    { active: true, sid: grant.session_id },
    "A takes B's JWT",
  )
  const onA = await refresh(a, second.refresh_token)
  t.equal(onA.status, 200, "and A refreshes B's next token")
  t.not((await json<Grant>(onA)).refresh_token, second.refresh_token)
})

t.test('20 concurrent refreshes of one token split across A and B: one rotation', async (t) => {
  const { grant } = await signIn(t, a, 'refresh-race@example.com')
  const answers = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const res = await refresh(i % 2 ? a : b, grant.refresh_token)
      return { status: res.status, body: await json(res) }
    }),
  )
  const granted = answers.filter((r) => r.status === 200).map((r) => r.body as unknown as Grant)
  t.ok(granted.length >= 1, `${granted.length} grants`)
  // The losers of the compare-and-increment see the rotation a moment old: within the grace,
  // the current pair again. No answer may be anything else than that or token_used.
  const refused = answers.filter((r) => r.status !== 200)
  t.same(
    refused.map((r) => [r.status, r.body.code]),
    refused.map(() => [401, 'token_used']),
    'every other answer is 401 token_used',
  )
  const tokens = new Set(granted.map((g) => g.refresh_token))
  t.equal(tokens.size, 1, 'every grant carries the one next refresh token')
  t.ok(
    granted.every((g) => g.session_id === grant.session_id),
    'of the same session',
  )
  const [next = ''] = tokens
  // A refresh token carries its session's refresh sequence (DESIGN "Link token format").
  const seqOf = (token: string) => decodeToken(token).fields.seq
  t.equal(seqOf(next), seqOf(grant.refresh_token) + 1, 'one step ahead: exactly one rotation')
  const third = await refresh(b, next)
  t.equal(third.status, 200, 'the next token is the current one: it rotates in turn')
  t.equal(seqOf((await json<Grant>(third)).refresh_token), seqOf(next) + 1)
})

t.test('a session ended on A is refused and listed as ended on B', async (t) => {
  const { userId, grant } = await signIn(t, a, 'leaver@example.com')
  const ended = await a.request('/v1/sessions/end', {
    body: { refresh_token: grant.refresh_token },
    apiKey: service.key,
  })
  t.equal(ended.status, 204, 'ended on A')
  const onB = await refresh(b, grant.refresh_token)
  t.equal(onB.status, 401)
  t.equal((await json(onB)).code, 'session_ended', 'B refuses its refresh token')
  t.match(await introspect(b, grant.jwt), { active: false, reason: 'session_ended' })
  t.match(
    await sessionsOf(b, userId),
    [{ id: grant.session_id, end_reason: 'logout', ended_at: String }],
    'B lists it as ended',
  )
})

t.test('an admin on B ends a session opened on A; A introspects it as ended', async (t) => {
  const { userId, grant } = await signIn(t, a, 'ousted@example.com')
  t.match(await introspect(a, grant.jwt), { active: true })
  const deleted = await b.request(`/v1/admin/sessions/${grant.session_id}`, {
    method: 'DELETE',
    apiKey: admin.key,
  })
  t.equal(deleted.status, 204, 'ended on B')
  t.strictSame(await introspect(a, grant.jwt), { active: false, reason: 'session_ended' })
  const onA = await refresh(a, grant.refresh_token)
  t.equal((await json(onA)).code, 'session_ended', 'A refuses its refresh token')
  t.match(await sessionsOf(a, userId), [{ id: grant.session_id, end_reason: 'admin' }])
})

t.test('the per-recipient limit counts requests to both instances', async (t) => {
  for (const email of ['limited@example.com', 'nobody@example.com']) {
    const answers = []
    for (let i = 0; i < 5; i++) {
      // The second address has no user and gets none: counted and answered all the same.
      const body = { email, create_user: email.startsWith('limited') }
      answers.push(await (i % 2 ? b : a).request('/v1/links', { body, apiKey: service.key }))
    }
    t.same(
      answers.map((r) => r.status),
      [202, 202, 202, 429, 429],
      `${email}: three emails in all, then 429 on either instance`,
    )
    const limited = answers[3] as Response
    t.match(await json(limited), { status: 429, code: 'rate_limited' })
    t.ok(Number(limited.headers.get('retry-after')) > 0, 'with Retry-After')
  }
  const sentTo = (email: string) => fake.emails.filter((e) => e.to[0] === email).length
  await until(() => sentTo('limited@example.com') === 3, 'the three emails')
})

t.test('with both outbox workers running, every email is sent exactly once', async (t) => {
  const addresses = Array.from({ length: 30 }, (_, i) => `mail${i}@example.com`)
  const ours = () => fake.emails.filter((e) => addresses.includes(e.to[0] as string))
  await Promise.all(addresses.map((email, i) => issue(t, i % 2 ? a : b, { email })))
  await until(() => ours().length >= addresses.length, 'every email', 60)
  // Waits for a state, not a time: once no row is pending, no row can be claimed again (workers
  // claim pending rows only). A row both workers claimed at once would be the bug; the strict
  // proof that a claim is exclusive is the store contract's cross-handle claim test.
  const pending = async () =>
    (
      await json<{ counts: Record<string, number> }>(
        await b.request('/v1/admin/outbox?status=pending', { apiKey: admin.key }),
      )
    ).counts.pending
  await until(async () => (await pending()) === 0, 'every row marked sent', 60)

  const emails = ours()
  t.same(emails.map((e) => e.to[0]).sort(), [...addresses].sort(), 'each address once')
  // A row sent twice would reach the fake twice under its one idempotency key (the outbox row
  // id); the fake records such a repeat as a request but not as a second email.
  const keys = new Set(emails.map((e) => e.idempotencyKey))
  t.equal(keys.size, addresses.length, 'one idempotency key per email')
  const requests = fake.requests.filter((r) => r.path === '/emails' && keys.has(r.idempotencyKey))
  t.equal(requests.length, addresses.length, 'one request to the provider per email')

  t.equal(await pending(), 0, 'nothing left pending')
})

t.test('revocations on both instances reach the feed of each, once, in order', async (t) => {
  type Page = { revocations: { user_id: string; reason: string }[]; cursor: string }
  const feed = async (on: Service, after?: string) =>
    json<Page>(
      await on.request(`/v1/revocations${after ? `?after=${after}` : ''}`, { apiKey: service.key }),
    )
  // Where the feed stands now: whatever the earlier tests revoked is behind this cursor.
  let start = await feed(a)
  for (let page = start; page.revocations.length > 0; page = await feed(a, start.cursor)) {
    start = page
  }
  const users = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      issue(t, i % 2 ? a : b, { email: `feed${i}@example.com`, deliver: 'none' }),
    ),
  )
  // Revoked concurrently, half through each instance: their transactions interleave.
  await Promise.all(
    users.map(({ user_id }, i) =>
      (i % 2 ? b : a).request(`/v1/admin/users/${user_id}/revoke`, { body: {}, apiKey: admin.key }),
    ),
  )
  const read = async (on: Service) => {
    const seen: Page['revocations'] = []
    let cursor = start.cursor
    for (;;) {
      const page = await feed(on, cursor)
      if (page.revocations.length === 0) return seen
      seen.push(...page.revocations)
      cursor = page.cursor
    }
  }
  const ids = users.map((u) => u.user_id).sort()
  // Only this test's users: an entry of an earlier test may still come after `start`, when a
  // transaction elsewhere on the server (transaction ids are the cluster's) held the feed back
  // while `start` was read. The feed delays entries; it never skips one.
  const ours = (seen: Page['revocations']) => seen.filter((r) => ids.includes(r.user_id))
  const onA = await until(
    async () => {
      const seen = await read(a)
      return ours(seen).length >= ids.length && seen
    },
    'every revoke in the feed',
    30,
  )
  t.strictSame(
    ours(onA)
      .map((r) => r.user_id)
      .sort(),
    ids,
    'each revoke once',
  )
  t.ok(ours(onA).every((r) => r.reason === 'revoked'))
  t.strictSame(
    await read(b),
    onA,
    'the other instance hands out the same entries, in the same order',
  )
})

t.test('both instances are still up', async (t) => {
  t.ok(a.alive() && b.alive())
})
