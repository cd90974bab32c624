import { randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { deriveCode, groupCode } from '../../src/tokens/code.js'
import { decodeToken } from '../../src/tokens/codec.js'
import { KeyRing } from '../../src/tokens/keyring.js'
import { asAdmin, build, linkSecret, tokenOf } from '../helpers/app.js'
import {
  codeInText,
  emailLink,
  mailedCode,
  onStore,
  otherCode,
  postCode,
} from '../helpers/codes.js'
import { apiLink, assertProblem, postVerify } from '../helpers/http.js'
import { sampleValue, scrape } from '../helpers/metrics.js'
import { adminAction, mailedLink, postIntrospect } from '../helpers/pages.js'
import { tempDir } from '../helpers/temp.js'

const ringSecret = { kid: 1, secret: Buffer.from(linkSecret, 'base64url') }

// Sign-in codes through the API (DESIGN "HTTP API", requirements 3 and 18), on both stores: the
// code in the email, single use together with its link, the guess budget per inbox, and one
// answer for known, unknown and disabled addresses.

const ATTEMPTS = 20

for (const store of ['sqlite', 'postgres'] as const) {
  t.test(store, async (t) => {
    const h = await onStore(t, store, { RATE_LIMIT_CODE: '5/15m' })
    const { app, clock } = h
    let counter = 0
    const fresh = (name = 'code') => `${name}-${++counter}@example.com`

    t.test('every one-time sign-in email has a code; access and reusable links none', async (t) => {
      const email = fresh()
      await emailLink(app, email)
      const code = await mailedCode(h, email)
      t.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/, 'grouped Crockford base32')
      const message = h.mail.findLast((m) => m.to === email)
      t.ok(message?.html.includes(code), 'the HTML part shows it too')

      await emailLink(app, email, { one_time: false })
      await app.outbox.runOnce()
      t.equal(codeInText(h.mail.at(-1)?.text ?? ''), undefined, 'a reusable link: no code')
      t.notMatch(h.mail.at(-1)?.html ?? '', /enter this code/, 'nor in its HTML')
      await emailLink(app, email, { scope: 'docs:read' })
      await app.outbox.runOnce()
      t.equal(codeInText(h.mail.at(-1)?.text ?? ''), undefined, 'an access link: no code')
    })

    t.test('the right code signs in: the answer of a login link', async (t) => {
      const email = fresh()
      const issued = await emailLink(app, email, { redirect_to: '/after' })
      const code = await mailedCode(h, email)
      const res = await postCode(app, {
        email: email.toUpperCase(),
        code: ` ${code.toLowerCase()} `,
        ip: '203.0.113.9',
        user_agent: 'Phone/1.0',
      })
      t.equal(res.statusCode, 200, res.body)
      const body = res.json()
      t.same(Object.keys(body).sort(), ['redirect_to', 'scope', 'session', 'user'])
      t.equal(body.user.id, issued.user_id)
      t.equal(body.redirect_to, '/after', 'the target its link binds')
      t.equal(body.scope, null)
      t.same(Object.keys(body.session).sort(), [
        'expires_at',
        'jwt',
        'refresh_expires_at',
        'refresh_token',
        'session_id',
      ])
      t.match(await postIntrospect(app, body.session.jwt), { active: true, client_id: 'svc' })
      const sessions = await app.inject({
        method: 'GET',
        url: `/v1/admin/users/${issued.user_id}/sessions`,
        headers: asAdmin,
      })
      t.match(sessions.json().sessions[0], {
        client: 'svc',
        ip: '203.0.113.9',
        user_agent: 'Phone/1.0',
      })
      assertProblem(t, await postCode(app, { email, code }), 401, 'code_invalid')
    })

    t.test('O, I and L read as 0 and 1; hyphens and spaces do not matter', async (t) => {
      const email = fresh()
      await emailLink(app, email)
      const code = await mailedCode(h, email)
      const typed = code.replaceAll('0', 'o').replaceAll('1', 'l').replace('-', ' - ')
      t.equal((await postCode(app, { email, code: typed })).statusCode, 200, `typed as ${typed}`)
    })

    t.test('the code, then the link: token_used', async (t) => {
      const email = fresh()
      await emailLink(app, email)
      const code = await mailedCode(h, email)
      const link = await mailedLink(h, email)
      t.equal((await postCode(app, { email, code })).statusCode, 200)
      assertProblem(t, await postVerify(app, { token: tokenOf(link) }), 401, 'token_used')
    })

    t.test('the link, then the code: code_invalid', async (t) => {
      const email = fresh()
      await emailLink(app, email)
      const code = await mailedCode(h, email)
      const link = await mailedLink(h, email)
      t.equal((await postVerify(app, { token: tokenOf(link) })).statusCode, 200)
      assertProblem(t, await postCode(app, { email, code }), 401, 'code_invalid')
    })

    t.test('a link used by another means (deliver none) voids the emailed code', async (t) => {
      const email = fresh()
      await emailLink(app, email)
      const code = await mailedCode(h, email)
      const other = await apiLink(app, { email })
      t.equal((await postVerify(app, { token: other.token })).statusCode, 200)
      assertProblem(t, await postCode(app, { email, code }), 401, 'code_invalid')
    })

    t.test('two emails: either code works, once, and spends the other', async (t) => {
      const email = fresh()
      await emailLink(app, email)
      const first = await mailedCode(h, email)
      clock.advance(1)
      await emailLink(app, email)
      const second = await mailedCode(h, email)
      t.not(first, second, 'two links, two codes')
      t.equal((await postCode(app, { email, code: first })).statusCode, 200)
      assertProblem(t, await postCode(app, { email, code: second }), 401, 'code_invalid')
    })

    t.test('an expired link: its code is invalid too', async (t) => {
      const email = fresh()
      await emailLink(app, email, { ttl_seconds: 60 })
      const code = await mailedCode(h, email)
      clock.advance(60)
      assertProblem(t, await postCode(app, { email, code }), 401, 'code_invalid')
    })

    t.test('a revoke kills the code', async (t) => {
      const email = fresh()
      const issued = await emailLink(app, email)
      const code = await mailedCode(h, email)
      await adminAction(app, issued.user_id, 'revoke')
      assertProblem(t, await postCode(app, { email, code }), 401, 'code_invalid')
    })

    t.test('a code is the address’s: not another address’s', async (t) => {
      const ada = fresh()
      const bob = fresh()
      await emailLink(app, ada)
      await emailLink(app, bob)
      const code = await mailedCode(h, ada)
      assertProblem(t, await postCode(app, { email: bob, code }), 401, 'code_invalid')
      t.equal((await postCode(app, { email: ada, code })).statusCode, 200)
    })

    t.test('wrong codes of a known user: code.failed, the actor, never the code', async (t) => {
      const email = fresh()
      const issued = await emailLink(app, email)
      const code = await mailedCode(h, email)
      const wrong = otherCode(code)
      assertProblem(t, await postCode(app, { email, code: wrong, ip: '198.51.100.4' }), 401)
      const res = await app.inject({
        method: 'GET',
        url: `/v1/admin/audit?user_id=${issued.user_id}&type=code.failed`,
        headers: asAdmin,
      })
      const events = res.json().events
      t.equal(events.length, 1, 'one event')
      t.match(events[0], { type: 'code.failed', actor: 'key:svc', ip: '198.51.100.4' })
      const all = JSON.stringify(
        (
          await app.inject({ method: 'GET', url: '/v1/admin/audit?limit=200', headers: asAdmin })
        ).json(),
      )
      for (const c of [code, wrong, code.replace('-', ''), wrong.replace('-', '')]) {
        t.notOk(all.includes(c), `no code in the audit trail (${c})`)
      }
    })

    t.test('an IP-bound link: no code in its email, and no code signs in for it', async (t) => {
      const email = fresh()
      await emailLink(app, email, { bind_ip: '198.51.100.7' })
      await app.outbox.runOnce()
      const message = h.mail.findLast((m) => m.to === email)
      t.ok(message, 'the email was sent')
      t.equal(codeInText(message?.text ?? ''), undefined, 'no code in the text part')
      t.notMatch(message?.html ?? '', /enter this code/, 'nor in its HTML')
      // The code its fields would give, had it one, is refused, from its own IP or another.
      const link = /https?:\/\/\S+\/login\/link\?\S+/.exec(message?.text ?? '')?.[0]
      t.ok(link, 'the link is in the email')
      const { fields } = decodeToken(tokenOf(link as string))
      const code = groupCode(deriveCode(new KeyRing([ringSecret]).codeKeys[0] as Buffer, fields))
      for (const ip of ['198.51.100.7', '203.0.113.99']) {
        assertProblem(t, await postCode(app, { email, code, ip }), 401, 'code_invalid')
      }
    })

    t.test('a wrong code for an unknown address is written down too (the same work)', async (t) => {
      const before = await app.inject({
        method: 'GET',
        url: '/v1/admin/audit?type=code.failed&limit=200',
        headers: asAdmin,
      })
      const count = before.json().events.length
      assertProblem(
        t,
        await postCode(app, { email: fresh('nobody'), code: 'K7QM-4TZP' }),
        401,
        'code_invalid',
      )
      const after = await app.inject({
        method: 'GET',
        url: '/v1/admin/audit?type=code.failed&limit=200',
        headers: asAdmin,
      })
      const events = after.json().events
      t.equal(events.length, count + 1, 'one more code.failed')
      t.match(events[0], { type: 'code.failed', user_id: null, detail: { reason: 'wrong' } })
    })

    t.test(
      'bad input: a 400 for a body that is not one, code_invalid for any string',
      async (t) => {
        const email = fresh()
        assertProblem(t, await postCode(app, { email, code: 12345678 }), 400, 'invalid_request')
        assertProblem(t, await postCode(app, { email, code: 'A'.repeat(65) }), 400)
        assertProblem(t, await postCode(app, { email }), 400)
        assertProblem(t, await postCode(app, { email, code: 'x', extra: 1 }), 400)
        assertProblem(t, await postCode(app, { email: 'not an address', code: 'ABCD-EFGH' }), 400)
        for (const code of ['hello', 'ABCD-EFGU', '', 'ÄBCD-EFGH', 'ABCDEFGHJ'].filter(Boolean)) {
          assertProblem(t, await postCode(app, { email: fresh(), code }), 401, 'code_invalid')
        }
        assertProblem(t, await postCode(app, { email, code: 'ABCD-EFGH' }, {}), 401, 'unauthorized')
        const admin = await postCode(app, { email, code: 'ABCD-EFGH' }, asAdmin)
        t.equal(admin.statusCode, 401, 'an admin key is a service key too')
      },
    )

    t.test('the guess budget: 5 attempts, then even the right code is 429', async (t) => {
      const email = fresh()
      await emailLink(app, email)
      const code = await mailedCode(h, email)
      for (let i = 0; i < 5; i++) {
        assertProblem(t, await postCode(app, { email, code: otherCode(code) }), 401, 'code_invalid')
      }
      const over = await postCode(app, { email, code })
      assertProblem(t, over, 429, 'rate_limited')
      const retryAfter = Number(over.headers['retry-after'])
      t.ok(retryAfter > 0 && retryAfter <= 900, `Retry-After ${retryAfter}`)

      // A new email is a new code, not a new budget.
      clock.advance(60)
      await emailLink(app, email)
      const fresher = await mailedCode(h, email)
      assertProblem(t, await postCode(app, { email, code: fresher }), 429, 'rate_limited')
      // Nor does another spelling of the inbox get one of its own.
      const [local, domain] = email.split('@')
      assertProblem(
        t,
        await postCode(app, { email: `${local}+x@${domain?.toUpperCase()}`, code: fresher }),
        429,
      )

      // Once the window has passed, a code works again (the last email's: the first expired).
      clock.advance(900)
      await emailLink(app, email)
      const last = await mailedCode(h, email)
      t.equal((await postCode(app, { email, code: last })).statusCode, 200, 'the window ended')
    })

    t.test('unknown, known and disabled addresses: byte-identical answers', async (t) => {
      const known = fresh('known')
      await emailLink(app, known)
      const knownCode = await mailedCode(h, known)
      const idle = fresh('idle')
      await apiLink(app, { email: idle })
      const disabled = fresh('disabled')
      const d = await emailLink(app, disabled)
      const disabledCode = await mailedCode(h, disabled)
      await adminAction(app, d.user_id, 'disable')
      const unknown = fresh('unknown')

      const shape = (res: LightMyRequestResponse) => ({
        status: res.statusCode,
        type: res.headers['content-type'],
        retryAfter: res.headers['retry-after'],
        body: res.body,
      })
      const tries = {
        known: () => postCode(app, { email: known, code: otherCode(knownCode) }),
        idle: () => postCode(app, { email: idle, code: knownCode }),
        disabled: () => postCode(app, { email: disabled, code: disabledCode }),
        unknown: () => postCode(app, { email: unknown, code: knownCode }),
      }
      for (let round = 1; round <= 6; round++) {
        const answers = {
          known: shape(await tries.known()),
          idle: shape(await tries.idle()),
          disabled: shape(await tries.disabled()),
          unknown: shape(await tries.unknown()),
        }
        t.equal(answers.known.status, round <= 5 ? 401 : 429, `round ${round}`)
        t.same(answers.idle, answers.known, `round ${round}: a user without a pending link`)
        t.same(answers.disabled, answers.known, `round ${round}: a disabled user (right code)`)
        t.same(answers.unknown, answers.known, `round ${round}: an unknown address`)
      }
    })
  })

  t.test(
    `${store}: ${ATTEMPTS} concurrent submissions of the right code, one session`,
    async (t) => {
      const h = await onStore(t, store, { RATE_LIMIT_CODE: '100/15m' })
      const email = 'race@example.com'
      await emailLink(h.app, email)
      const code = await mailedCode(h, email)
      const link = await mailedLink(h, email)
      const results = await Promise.all(
        Array.from({ length: ATTEMPTS }, () => postCode(h.app, { email, code })),
      )
      const statuses = results.map((r) => r.statusCode)
      t.equal(statuses.filter((s) => s === 200).length, 1, `exactly one 200: ${statuses}`)
      t.equal(statuses.filter((s) => s === 401).length, ATTEMPTS - 1)
      for (const r of results.filter((r) => r.statusCode === 401))
        t.equal(r.json().code, 'code_invalid')
      const user = await h.app.inject({
        method: 'GET',
        url: `/v1/admin/users?email=${email}`,
        headers: asAdmin,
      })
      const id = user.json().users[0].id
      const sessions = await h.app.inject({
        method: 'GET',
        url: `/v1/admin/users/${id}/sessions`,
        headers: asAdmin,
      })
      t.equal(sessions.json().sessions.length, 1, 'one session row')
      assertProblem(t, await postVerify(h.app, { token: tokenOf(link) }), 401, 'token_used')
    },
  )
}

t.test('the budget is off with RATE_LIMIT_CODE=off', async (t) => {
  const h = await onStore(t, 'sqlite', { RATE_LIMIT_CODE: 'off' })
  const email = 'many@example.com'
  await emailLink(h.app, email)
  const code = await mailedCode(h, email)
  for (let i = 0; i < 8; i++) await postCode(h.app, { email, code: otherCode(code) })
  t.equal((await postCode(h.app, { email, code })).statusCode, 200)
})

t.test('a rotated key ring: a code sent under the old secret still works', async (t) => {
  const dataDir = tempDir(t)
  const before = await build(t, { dataDir })
  await emailLink(before.app, 'rotate@example.com')
  const code = await mailedCode(before, 'rotate@example.com')
  await before.close()
  const fresh = randomBytes(32).toString('base64url')
  const after = await build(t, { dataDir, env: { LINK_SECRETS: `2:${fresh},1:${linkSecret}` } })
  t.equal((await postCode(after.app, { email: 'rotate@example.com', code })).statusCode, 200)
})

t.test('the metrics count codes by outcome, and the budget’s refusals', async (t) => {
  const h = await onStore(t, 'sqlite', { RATE_LIMIT_CODE: '3/15m' })
  const email = 'counted@example.com'
  await emailLink(h.app, email)
  const code = await mailedCode(h, email)
  t.equal((await postCode(h.app, { email, code: otherCode(code) })).statusCode, 401)
  t.equal((await postCode(h.app, { email, code })).statusCode, 200)
  t.equal((await postCode(h.app, { email, code })).statusCode, 401, 'spent')
  t.equal((await postCode(h.app, { email, code })).statusCode, 429)
  const { samples, text } = await scrape(h.app, asAdmin.authorization)
  const codes = (outcome: string) =>
    sampleValue(samples, 'latchkey_code_verifications_total', { outcome })
  t.equal(codes('ok'), 1)
  t.equal(codes('code_invalid'), 2)
  t.equal(sampleValue(samples, 'latchkey_rate_limited_total', { limit: 'code' }), 1)
  t.equal(sampleValue(samples, 'latchkey_sessions_created_total'), 1)
  t.notOk(text.includes(code.replace('-', '')) || text.includes(code), 'no code in the scrape')
})
