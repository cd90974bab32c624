import t from 'tap'
import { adminKey, asAdmin, asService, build, serviceKey, tokenOf } from '../helpers/app.js'

// The most talkative level: no secret may appear at any level, not only at the default one.
const harness = await build(t, { env: { LOG_LEVEL: 'trace' } })
const { app, logs, mail } = harness

const COOKIE_VALUE = 'c00k1e-s3ss10n-v4lue-9f8e7d6c5b4a'
const STRAY_BEARER = 'lk_stray-bearer-value-0123456789abcdef'

interface LogLine {
  msg?: string
  req?: { method?: string; path?: string; url?: string }
  res?: { statusCode?: number }
}

t.test('a full flow leaves no secret in the logs', async (t) => {
  const secrets: Record<string, string> = {
    'service API key': serviceKey.key,
    'admin API key': adminKey.key,
    'cookie value': COOKIE_VALUE,
    'stray bearer value': STRAY_BEARER,
  }
  const browser = { cookie: `__Host-latchkey=${COOKIE_VALUE}; theme=dark` }

  const issued = await app.inject({
    method: 'POST',
    url: '/v1/links',
    headers: { ...asService, ...browser },
    payload: { email: 'logged@example.com', deliver: 'none', redirect_to: '/after' },
  })
  t.equal(issued.statusCode, 202)
  const link: string = issued.json().link
  const token = tokenOf(link)
  secrets.link = link
  secrets['link token'] = token

  const mailed = await app.inject({
    method: 'POST',
    url: '/v1/links',
    headers: asService,
    payload: { email: 'logged@example.com', deliver: 'email' },
  })
  t.equal(mailed.statusCode, 202)
  await app.outbox.runOnce()
  const mailedLink = /https:\/\/\S+token=[A-Za-z0-9_-]{64}/.exec(mail.at(-1)?.text ?? '')?.[0]
  if (!mailedLink) throw new Error('no mailed link')
  secrets['mailed token'] = tokenOf(mailedLink)

  // A browser opening the link: the token in the query string, a cookie, and a stray header.
  const page = await app.inject({
    method: 'GET',
    url: `/login/link?token=${token}&next=%2Fafter`,
    headers: { ...browser, authorization: `Bearer ${STRAY_BEARER}` },
  })
  t.equal(page.statusCode, 200, 'the confirm page, whose request is logged too')

  const verified = await app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: { ...asService, ...browser },
    payload: { token, redirect_to: '/after' },
  })
  t.equal(verified.statusCode, 200)
  const { jwt, refresh_token: refreshToken } = verified.json().session
  secrets.jwt = jwt
  secrets['refresh token'] = refreshToken

  const replay = await app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token, redirect_to: '/after' },
  })
  t.equal(replay.statusCode, 401, 'a failure is logged too')

  const refreshed = await app.inject({
    method: 'POST',
    url: '/v1/sessions/refresh',
    headers: asService,
    payload: { refresh_token: refreshToken },
  })
  t.equal(refreshed.statusCode, 200)
  secrets['refreshed jwt'] = refreshed.json().jwt
  secrets['refreshed refresh token'] = refreshed.json().refresh_token

  const introspected = await app.inject({
    method: 'POST',
    url: '/v1/sessions/introspect',
    headers: asService,
    payload: { jwt },
  })
  t.equal(introspected.json().active, true)

  const rejected = await app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token, unexpected: jwt },
  })
  t.equal(rejected.statusCode, 400, 'a rejected body is logged without its content')

  const wrongKey = await app.inject({
    method: 'GET',
    url: `/v1/admin/users?email=logged%40example.com&token=${token}`,
    headers: { authorization: `Bearer ${STRAY_BEARER}` },
  })
  t.equal(wrongKey.statusCode, 401)
  const admin = await app.inject({
    method: 'GET',
    url: '/v1/admin/users?email=logged%40example.com',
    headers: { ...asAdmin, ...browser },
  })
  t.equal(admin.statusCode, 200)

  t.ok(logs.length > 0, 'the app logged something')
  const all = logs.join('')
  for (const [name, secret] of Object.entries(secrets)) {
    t.notOk(all.includes(secret), `no ${name} in the logs`)
    // A truncated or re-encoded copy would still leak: look for the tail alone as well.
    const tail = secret.slice(-16)
    t.notOk(all.includes(tail), `not even the last 16 characters of the ${name}`)
  }
  for (const part of String(jwt).split('.').slice(1)) {
    t.notOk(all.includes(part), 'no segment of the jwt')
  }
  t.notOk(all.includes('token='), 'no query string with a token')
})

t.test('request log lines name the method and the path', async (t) => {
  const lines: LogLine[] = logs
    .flatMap((l) => l.split('\n').filter(Boolean))
    .map((l) => JSON.parse(l))
  const requests = lines.filter((l) => l.req !== undefined)
  t.ok(requests.length > 0, 'there are request lines')
  const seen = new Set(requests.map((l) => `${l.req?.method} ${l.req?.path}`))
  for (const expected of [
    'POST /v1/links',
    'POST /v1/links/verify',
    'GET /login/link',
    'POST /v1/sessions/refresh',
    'POST /v1/sessions/introspect',
    'GET /v1/admin/users',
  ]) {
    t.ok(seen.has(expected), `a request line for ${expected}`)
  }
  const completed = lines.filter((l) => l.res?.statusCode !== undefined)
  t.ok(
    completed.some((l) => l.res?.statusCode === 401),
    'response lines carry the status',
  )
})
