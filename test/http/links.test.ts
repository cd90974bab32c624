import { createLocalJWKSet, jwtVerify } from 'jose'
import type { Test } from 'tap'
import t from 'tap'
import { asAdmin, asService, build, PUBLIC_URL, tokenOf } from '../helpers/app.js'
import { assertProblem, linkParts, postLink, postVerify } from '../helpers/http.js'

const harness = await build(t)
const { app, clock, config, mail } = harness

let counter = 0
/** A fresh address per use, so the subtests never share a user. */
const freshEmail = (name = 'user') => `${name}-${++counter}@example.com`

const issue = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  postLink(app, payload, { ...asService, ...headers })

const verify = (payload: Record<string, unknown>) => postVerify(app, payload)

/** Issues a link with deliver "none" and returns its parts; fails the test unless 202. */
async function newLink(
  t: Test,
  payload: Record<string, unknown> = {},
): Promise<{ userId: string; link: string; token: string; expiresAt: number }> {
  const res = await issue({ email: freshEmail(), deliver: 'none', ...payload })
  t.equal(res.statusCode, 202, 'the link is issued')
  const { userId, link, token, body } = linkParts(res)
  return { userId, link, token, expiresAt: body.expires_at }
}

t.test('deliver none returns a link built from PUBLIC_URL', async (t) => {
  const email = freshEmail()
  const res = await issue({ email, deliver: 'none' })
  t.equal(res.statusCode, 202)
  const body = res.json()
  t.equal(body.delivery, 'none')
  t.match(body.user_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  t.equal(body.expires_at, Math.floor(clock.ms / 1000) + config.linkTtl, 'LINK_TTL by default')
  const url = new URL(body.link)
  t.equal(url.origin, PUBLIC_URL)
  t.equal(url.pathname, '/login/link')
  t.match(url.searchParams.get('token'), /^[A-Za-z0-9_-]{64}$/)
  t.equal(mail.length, 0, 'nothing is mailed')
})

t.test('the link ignores Host and X-Forwarded-Host', async (t) => {
  const spoofed: Record<string, string>[] = [
    { host: 'evil.example' },
    { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
    { host: 'evil.example', 'x-forwarded-host': 'evil.example:8443' },
  ]
  for (const headers of spoofed) {
    const res = await issue({ email: freshEmail(), deliver: 'none' }, headers)
    t.equal(res.statusCode, 202)
    const link: string = res.json().link
    t.ok(link.startsWith(`${PUBLIC_URL}/login/link?token=`), `link from PUBLIC_URL: ${link}`)
    t.notMatch(link, /evil/)
  }
})

t.test('deliver email puts exactly one message in the mail, link in text and html', async (t) => {
  const before = mail.length
  const email = freshEmail('mailed')
  const res = await issue({ email, deliver: 'email' })
  t.equal(res.statusCode, 202)
  t.equal(mail.length, before, 'nothing is sent before the answer')
  await app.outbox.runOnce()
  const body = res.json()
  t.equal(body.delivery, 'queued')
  t.notOk('link' in body, 'no link in the answer')
  t.equal(mail.length, before + 1, 'exactly one message')
  const message = mail.at(-1)
  if (!message) throw new Error('no message')
  t.equal(message.to, email)
  t.type(message.subject, 'string')
  const found = /https:\/\/login\.example\.test\/login\/link\?token=[A-Za-z0-9_-]{64}/.exec(
    message.text,
  )
  if (!found) throw new Error('no link in the text part')
  const link = found[0]
  t.ok(message.html.includes(link), 'the same link is in the html part')
  const verified = await verify({ token: tokenOf(link) })
  t.equal(verified.statusCode, 200, 'the mailed link signs in')
  t.equal(verified.json().user.id, body.user_id)
})

t.test('deliver defaults to email', async (t) => {
  const before = mail.length
  const res = await issue({ email: freshEmail() })
  t.equal(res.statusCode, 202)
  t.equal(res.json().delivery, 'queued')
  await app.outbox.runOnce()
  t.equal(mail.length, before + 1)
})

t.test('email normalisation', async (t) => {
  t.test('whitespace trimmed, domain lower-cased, same user either way', async (t) => {
    const n = ++counter
    const first = await issue({ email: `  Ada.Lovelace${n}@EXAMPLE.Com \t`, deliver: 'none' })
    t.equal(first.statusCode, 202)
    const id = first.json().user_id
    const user = await app.inject({ method: 'GET', url: `/v1/admin/users/${id}`, headers: asAdmin })
    t.equal(user.json().email, `Ada.Lovelace${n}@example.com`, 'local part kept, domain lowered')
    const again = await issue({ email: `Ada.Lovelace${n}@example.COM`, deliver: 'none' })
    t.equal(again.json().user_id, id, 'the same user')
  })

  // An address ends up in mail headers: CR or LF anywhere inside it is refused, not repaired.
  // (Around it, they are whitespace and trimmed like any other.)
  for (const email of [
    'a\r\nb@example.com',
    'a\rb@example.com',
    'ab@example.com\r\nBcc: victim@example.com',
    'ab@exa\nmple.com',
    'ab@exa\r\nmple.com',
  ]) {
    t.test(`CR/LF inside the address → 400: ${JSON.stringify(email)}`, async (t) => {
      const res = await issue({ email, deliver: 'none' })
      assertProblem(t, res, 400, 'invalid_request')
    })
  }

  t.test('not an address → 400 invalid_request', async (t) => {
    for (const email of ['no-at-sign', '@example.com', 'a@', 'a@localhost', 'a b@example.com']) {
      assertProblem(t, await issue({ email, deliver: 'none' }), 400, 'invalid_request')
    }
  })
})

t.test('create_user false for an unknown email → 404', async (t) => {
  const res = await issue({ email: freshEmail('nobody'), deliver: 'none', create_user: false })
  assertProblem(t, res, 404, 'not_found')
  const known = await newLink(t)
  const user = await app.inject({
    method: 'GET',
    url: `/v1/admin/users/${known.userId}`,
    headers: asAdmin,
  })
  const again = await issue({ email: user.json().email, deliver: 'none', create_user: false })
  t.equal(again.statusCode, 202, 'a known email works without create_user')
  t.equal(again.json().user_id, known.userId)
})

t.test('user_id instead of email', async (t) => {
  const { userId } = await newLink(t)
  const res = await issue({ user_id: userId, deliver: 'none' })
  t.equal(res.statusCode, 202)
  t.equal(res.json().user_id, userId)
  const upper = await issue({ user_id: userId.toUpperCase(), deliver: 'none' })
  t.equal(upper.statusCode, 202, 'an upper-case id names the same user')
  t.equal(upper.json().user_id, userId)
  const verified = await verify({ token: tokenOf(res.json().link) })
  t.equal(verified.statusCode, 200)
  t.equal(verified.json().user.id, userId)
  const unknown = await issue({ user_id: '00000000-0000-7000-8000-000000000000', deliver: 'none' })
  assertProblem(t, unknown, 404, 'not_found')
})

t.test('email and user_id: both or neither → 400', async (t) => {
  const { userId } = await newLink(t)
  assertProblem(
    t,
    await issue({ email: freshEmail(), user_id: userId, deliver: 'none' }),
    400,
    'invalid_request',
  )
  assertProblem(t, await issue({ deliver: 'none' }), 400, 'invalid_request')
})

t.test('ttl_seconds bounds', async (t) => {
  assertProblem(t, await issue({ email: freshEmail(), ttl_seconds: 0 }), 400, 'invalid_request')
  assertProblem(t, await issue({ email: freshEmail(), ttl_seconds: -5 }), 400, 'invalid_request')
  assertProblem(
    t,
    await issue({ email: freshEmail(), ttl_seconds: config.linkTtlMax + 1, deliver: 'none' }),
    400,
    'invalid_request',
  )
  const max = await issue({ email: freshEmail(), ttl_seconds: config.linkTtlMax, deliver: 'none' })
  t.equal(max.statusCode, 202, 'LINK_TTL_MAX itself is allowed')
  t.equal(max.json().expires_at, Math.floor(clock.ms / 1000) + config.linkTtlMax)
  const one = await issue({ email: freshEmail(), ttl_seconds: 1, deliver: 'none' })
  t.equal(one.statusCode, 202, 'one second is allowed')

  const access = await issue({
    email: freshEmail(),
    scope: 'files:read',
    ttl_seconds: config.accessTtlMax,
    deliver: 'none',
  })
  t.equal(access.statusCode, 202, 'an access link may live up to ACCESS_TTL_MAX')
  t.ok(config.accessTtlMax > config.linkTtlMax)
  const verified = await verify({ token: tokenOf(access.json().link), scope: 'files:read' })
  t.equal(verified.statusCode, 200, 'and it verifies')
  assertProblem(
    t,
    await issue({
      email: freshEmail(),
      scope: 'files:read',
      ttl_seconds: config.accessTtlMax + 1,
      deliver: 'none',
    }),
    400,
    'invalid_request',
  )
})

t.test('redirect_to', async (t) => {
  t.test('a relative path is accepted, bound, and echoed on verify', async (t) => {
    const target = '/dashboard?tab=2#top'
    const { link, token } = await newLink(t, { redirect_to: target })
    t.equal(new URL(link).searchParams.get('next'), target, 'the link carries it as next')
    const res = await verify({ token, redirect_to: target })
    t.equal(res.statusCode, 200)
    t.equal(res.json().redirect_to, target)
  })

  t.test('an allowed origin is accepted', async (t) => {
    const target = 'https://app.example.test/welcome'
    const { token } = await newLink(t, { redirect_to: target })
    const res = await verify({ token, redirect_to: target })
    t.equal(res.statusCode, 200)
    t.equal(res.json().redirect_to, target)
  })

  t.test('a link without redirect_to verifies with redirect_to null', async (t) => {
    const { token } = await newLink(t)
    const res = await verify({ token })
    t.equal(res.statusCode, 200)
    t.equal(res.json().redirect_to, null)
  })

  for (const target of [
    '//evil.example',
    '/\\evil.example',
    'https:evil.example',
    'javascript:alert(1)',
    'https://user@app.example.test',
    'https://app.example.test@evil.example',
    'https://evil.example',
    '/ok\nx',
  ]) {
    t.test(`refuses ${JSON.stringify(target)}`, async (t) => {
      const res = await issue({ email: freshEmail(), redirect_to: target, deliver: 'none' })
      assertProblem(t, res, 400, 'invalid_request')
    })
  }

  t.test('verify with another redirect_to, or none → 401 token_invalid', async (t) => {
    const { token } = await newLink(t, { redirect_to: '/inbox' })
    assertProblem(t, await verify({ token, redirect_to: '/elsewhere' }), 401, 'token_invalid')
    assertProblem(t, await verify({ token }), 401, 'token_invalid')
    assertProblem(
      t,
      await verify({ token, redirect_to: 'https://app.example.test/inbox' }),
      401,
      'token_invalid',
    )
    const res = await verify({ token, redirect_to: '/inbox' })
    t.equal(res.statusCode, 200, 'the failures did not use the link up')
  })

  t.test('a link without a target does not verify against one', async (t) => {
    const { token } = await newLink(t)
    assertProblem(t, await verify({ token, redirect_to: '/inbox' }), 401, 'token_invalid')
  })
})

t.test('access links (scope)', async (t) => {
  t.test('session null, scope echoed, reusable by default', async (t) => {
    const { token, userId } = await newLink(t, { scope: 'invoice:42' })
    for (const round of [1, 2, 3]) {
      const res = await verify({ token, scope: 'invoice:42' })
      t.equal(res.statusCode, 200, `use ${round}`)
      const body = res.json()
      t.equal(body.session, null, 'an access link does not sign in')
      t.equal(body.scope, 'invoice:42')
      t.equal(body.user.id, userId)
    }
  })

  t.test('the scope must be presented, and be the same', async (t) => {
    const { token } = await newLink(t, { scope: 'invoice:42' })
    assertProblem(t, await verify({ token }), 401, 'token_invalid')
    assertProblem(t, await verify({ token, scope: 'invoice:43' }), 401, 'token_invalid')
  })

  t.test('a login link does not pass a scope check', async (t) => {
    const { token } = await newLink(t)
    assertProblem(t, await verify({ token, scope: 'invoice:42' }), 401, 'token_invalid')
  })

  t.test('one_time true makes an access link single-use', async (t) => {
    const { token } = await newLink(t, { scope: 'invoice:42', one_time: true })
    const first = await verify({ token, scope: 'invoice:42' })
    t.equal(first.statusCode, 200)
    t.equal(first.json().session, null)
    assertProblem(t, await verify({ token, scope: 'invoice:42' }), 401, 'token_used')
  })
})

t.test('a login link signs in: user and session, the jwt verifies against the JWKS', async (t) => {
  const { token, userId } = await newLink(t)
  const res = await verify({ token })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.equal(body.user.id, userId)
  t.equal(body.user.status, 'active')
  t.equal(body.user.last_login_at, new Date(clock.ms).toISOString(), 'the login is recorded')
  t.equal(body.scope, null)
  const session = body.session
  t.type(session.jwt, 'string')
  t.type(session.refresh_token, 'string')
  t.type(session.expires_at, 'number')
  t.type(session.refresh_expires_at, 'number')
  const now = Math.floor(clock.ms / 1000)
  t.equal(session.expires_at, now + config.sessionTtl)
  t.equal(session.refresh_expires_at, now + config.refreshTtl)

  const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(jwks.statusCode, 200)
  const { payload, protectedHeader } = await jwtVerify(
    session.jwt,
    createLocalJWKSet(jwks.json()),
    {
      issuer: PUBLIC_URL,
      audience: PUBLIC_URL,
      currentDate: new Date(clock.ms),
    },
  )
  t.equal(payload.sub, userId)
  t.equal(payload.email, body.user.email)
  t.equal(payload.exp, session.expires_at)
  t.equal(protectedHeader.typ, 'at+jwt')
  t.equal(protectedHeader.alg, 'ES256')

  assertProblem(t, await verify({ token }), 401, 'token_used')
})

t.test('consume false checks without using up, and opens no session', async (t) => {
  const { token, userId } = await newLink(t)
  for (const round of [1, 2]) {
    const dry = await verify({ token, consume: false })
    t.equal(dry.statusCode, 200, `dry run ${round}`)
    t.equal(dry.json().session, null)
    t.equal(dry.json().user.id, userId)
    t.equal(dry.json().user.last_login_at, null, 'no login recorded')
  }
  const real = await verify({ token })
  t.equal(real.statusCode, 200)
  t.ok(real.json().session, 'the link still signs in')
  assertProblem(t, await verify({ token, consume: false }), 401, 'token_used')
})

t.test('bind_ip', async (t) => {
  t.test('the same ip verifies; another → ip_mismatch; none → token_invalid', async (t) => {
    const { token } = await newLink(t, { bind_ip: '203.0.113.7' })
    assertProblem(t, await verify({ token, ip: '203.0.113.8' }), 401, 'ip_mismatch')
    assertProblem(t, await verify({ token }), 401, 'token_invalid')
    const ok = await verify({ token, ip: '203.0.113.7' })
    t.equal(ok.statusCode, 200)
    t.ok(ok.json().session)
  })

  t.test('IPv6', async (t) => {
    const { token } = await newLink(t, { bind_ip: '2001:db8::1' })
    assertProblem(t, await verify({ token, ip: '2001:db8::2' }), 401, 'ip_mismatch')
    t.equal((await verify({ token, ip: '2001:db8::1' })).statusCode, 200)
  })

  t.test('a link that is not bound ignores the ip presented', async (t) => {
    const { token } = await newLink(t)
    t.equal((await verify({ token, ip: '198.51.100.1' })).statusCode, 200)
  })

  t.test('bind_ip that is not an IP → 400', async (t) => {
    for (const bindIp of ['not-an-ip', '999.1.1.1', 'example.com']) {
      const res = await issue({ email: freshEmail(), bind_ip: bindIp, deliver: 'none' })
      assertProblem(t, res, 400, 'invalid_request')
    }
  })
})

t.test('expiry: ttl_seconds 1, one second later → token_expired', async (t) => {
  const { token, expiresAt } = await newLink(t, { ttl_seconds: 1 })
  t.equal(expiresAt, Math.floor(clock.ms / 1000) + 1)
  t.equal((await verify({ token, consume: false })).statusCode, 200, 'valid before')
  clock.advance(1)
  assertProblem(t, await verify({ token }), 401, 'token_expired')
})

t.test('using a one-time link voids the same user’s other one-time links', async (t) => {
  const email = freshEmail('two-links')
  const first = await issue({ email, deliver: 'none' })
  const second = await issue({ email, deliver: 'none' })
  t.equal(first.json().user_id, second.json().user_id)
  const used = await verify({ token: tokenOf(second.json().link) })
  t.equal(used.statusCode, 200)
  assertProblem(t, await verify({ token: tokenOf(first.json().link) }), 401, 'token_used')
  const third = await issue({ email, deliver: 'none' })
  t.equal((await verify({ token: tokenOf(third.json().link) })).statusCode, 200, 'a new one works')
})

t.test('a disabled user: 403 user_disabled on verify and on issue', async (t) => {
  const { token, userId } = await newLink(t)
  const disabled = await app.inject({
    method: 'POST',
    url: `/v1/admin/users/${userId}/disable`,
    headers: asAdmin,
  })
  t.equal(disabled.statusCode, 200)
  assertProblem(t, await verify({ token }), 403, 'user_disabled')
  assertProblem(t, await issue({ user_id: userId, deliver: 'none' }), 403, 'user_disabled')
  const user = await app.inject({
    method: 'GET',
    url: `/v1/admin/users/${userId}`,
    headers: asAdmin,
  })
  assertProblem(t, await issue({ email: user.json().email, deliver: 'none' }), 403, 'user_disabled')
})

t.test('a forged or malformed token → 401 token_invalid', async (t) => {
  const { token } = await newLink(t)
  const last = token.at(-1) === 'A' ? 'B' : 'A'
  for (const bad of [`${token.slice(0, -1)}${last}`, token.slice(1), 'x', `${token}=`]) {
    assertProblem(t, await verify({ token: bad }), 401, 'token_invalid')
  }
})

t.test(
  'an unknown address gets an id like a new user would get, the same every time',
  async (t) => {
    const v7time = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)
    const unknown = freshEmail('phantom')
    const ask = async (email: string, create_user: boolean) =>
      (await issue({ email, deliver: 'email', create_user })).json().user_id as string
    const phantom = await ask(unknown, false)
    const real = await ask(freshEmail('real'), true)
    t.match(phantom, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    t.ok(
      Math.abs(v7time(phantom) - v7time(real)) < 60_000,
      'its time says nothing a real id would not',
    )
    t.equal(await ask(unknown, false), phantom, 'stable across requests')
    t.equal(await ask(unknown.toUpperCase(), false), phantom, 'whatever the case')
    t.not(await ask(freshEmail('phantom'), false), phantom, 'one per address')
  },
)
