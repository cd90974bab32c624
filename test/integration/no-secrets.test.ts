import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { adminKey, asAdmin, asService, build, linkSecret, serviceKey } from '../helpers/app.js'
import { emailLink, mailedCode, otherCode, postCode } from '../helpers/codes.js'
import { apiLink, postVerify } from '../helpers/http.js'
import { Browser, mailedLink, mustForm, openAndConfirm, requestLink } from '../helpers/pages.js'
import { until } from '../helpers/poll.js'
import { startReceiver } from '../helpers/webhook-receiver.js'

// DESIGN requirement 11, across everything that leaves the process: every token, code, JWT,
// API key and cookie this test handles is looked for in the audit trail, the webhook bodies, the
// metrics scrape and the log. None may appear (the development `log` mail transport is not in
// use here; email goes to the test's mailer).

const metricsKey = generateApiKey('prometheus', 'metrics')
const receiver = await startReceiver(t)
const secret = `whsec_${randomBytes(32).toString('base64')}`
const resendSecret = `whsec_${randomBytes(24).toString('base64')}`
const h = await build(t, {
  env: {
    API_KEYS: [serviceKey.entry, adminKey.entry, metricsKey.entry].join(','),
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: secret,
    WEBHOOK_EVENTS: '*',
    HANDOFF: 'cookie',
    RESEND_WEBHOOK_SECRET: resendSecret,
  },
})
const { app } = h

/** Everything secret the test saw, by what it is. */
const secrets = new Map<string, string>([
  ['service API key', serviceKey.key],
  ['admin API key', adminKey.key],
  ['metrics API key', metricsKey.key],
  ['link secret', linkSecret],
  ['webhook secret', secret],
  ['Resend webhook secret', resendSecret],
])
const keep = (what: string, value: unknown) => {
  if (typeof value === 'string' && value.length >= 16) secrets.set(what, value)
}

/** Sign-in codes are 8 symbols, too short for `keep`: looked for grouped and not. */
const codes = new Map<string, string>()
const keepCode = (what: string, code: string) => {
  codes.set(what, code)
  codes.set(`${what} (ungrouped)`, code.replace('-', ''))
}

const post = (url: string, payload: Record<string, unknown>, headers = asService) =>
  app.inject({ method: 'POST', url, headers, payload })

t.test('a day of sign-ins, refreshes, failures and logouts', async (t) => {
  // Through the API: a link, a verify, a refresh, a reuse, a logout, a revoke.
  const issued = await apiLink(app, { email: 'api@example.com' })
  keep('api link token', issued.token)
  const verified = await postVerify(app, { token: issued.token, user_agent: 'Agent/1' })
  const grant = verified.json().session
  keep('api jwt', grant.jwt)
  keep('api refresh token', grant.refresh_token)
  const refreshed = (
    await post('/v1/sessions/refresh', { refresh_token: grant.refresh_token })
  ).json()
  keep('rotated jwt', refreshed.jwt)
  keep('rotated refresh token', refreshed.refresh_token)
  t.equal((await postVerify(app, { token: issued.token })).statusCode, 401, 'a reused link fails')
  await post('/v1/sessions/introspect', { jwt: refreshed.jwt })
  t.equal(
    (await post('/v1/sessions/end', { refresh_token: refreshed.refresh_token })).statusCode,
    204,
  )
  const spare = await apiLink(app, { email: 'api@example.com' })
  keep('spare link token', spare.token)
  await post(`/v1/admin/users/${issued.userId}/revoke`, {}, asAdmin)
  t.equal((await postVerify(app, { token: spare.token })).statusCode, 401, 'a revoked link fails')

  // Through the hosted pages: the form, the email, the link, the button, the cookie, the logout.
  const browser = new Browser(app)
  await requestLink(browser, 'pages@example.com')
  const link = await mailedLink(h, 'pages@example.com')
  keep('emailed link token', new URL(link).searchParams.get('token'))
  const mailed = h.mail.findLast((m) => m.to === 'pages@example.com')?.text ?? ''
  const report = /\/login\/report\?token=([\w-]+)/.exec(mailed)?.[1]
  t.ok(report, 'the email has a report link')
  keep('emailed report token', report)
  await openAndConfirm(browser, link)
  // Scanner telemetry: a HEAD of the used link is recorded too (link.viewed), never its token.
  await browser.head(link, { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda link check)' })
  for (const [name, value] of browser.cookies) keep(`cookie ${name}`, value)
  const form = mustForm((await browser.get('/logout')).body, '/logout')
  for (const [name, value] of Object.entries(form)) keep(`form field ${name}`, value)
  await browser.post('/logout', form)

  // Sign-in codes, through the API and the "check your email" page: right and wrong ones.
  await emailLink(app, 'code@example.com')
  const apiCode = await mailedCode(h, 'code@example.com')
  keepCode('API code', apiCode)
  keepCode('wrong API code', otherCode(apiCode))
  t.equal(
    (await postCode(app, { email: 'code@example.com', code: otherCode(apiCode) })).statusCode,
    401,
  )
  const byCode = await postCode(app, { email: 'code@example.com', code: apiCode })
  t.equal(byCode.statusCode, 200, 'a code signs in')
  keep('code jwt', byCode.json().session.jwt)
  keep('code refresh token', byCode.json().session.refresh_token)
  const typist = new Browser(app)
  const sent = await requestLink(typist, 'typist@example.com')
  const pageCode = await mailedCode(h, 'typist@example.com')
  keepCode('page code', pageCode)
  keepCode('wrong page code', otherCode(pageCode))
  const codeForm = mustForm(sent.body, '/login/code')
  await typist.post('/login/code', { ...codeForm, code: otherCode(pageCode) })
  await typist.post('/login/code', { ...codeForm, code: pageCode })
  for (const [name, value] of typist.cookies) keep(`typist cookie ${name}`, value)

  // Resend's callbacks: one signed, one forged; neither signature may be kept anywhere.
  const body = JSON.stringify({ type: 'email.bounced', data: { email_id: 'unknown-id' } })
  for (const [name, key, status] of [
    ['Resend callback signature', resendSecret, 200],
    ['forged callback signature', `whsec_${randomBytes(24).toString('base64')}`, 401],
  ] as const) {
    const id = `msg_${randomBytes(12).toString('hex')}`
    const at = new Date(Math.floor(h.clock.ms / 1000) * 1000)
    const signature = new Webhook(key).sign(id, at, body)
    keep(name, signature.slice('v1,'.length))
    const res = await app.inject({
      method: 'POST',
      url: '/v1/webhooks/resend',
      headers: {
        'content-type': 'application/json',
        'svix-id': id,
        'svix-timestamp': String(at.getTime() / 1000),
        'svix-signature': signature,
      },
      payload: body,
    })
    t.equal(res.statusCode, status, `${name}: answered ${status}`)
  }

  await until(async () => {
    await app.outbox.runOnce()
    return receiver.delivered().length >= 6
  }, 'the webhooks of the day')
  t.ok(receiver.delivered().length >= 6, 'webhooks went out')
})

t.test('none of it in the audit trail, webhooks, metrics or logs', async (t) => {
  const audit = await app.inject({
    method: 'GET',
    url: '/v1/admin/audit?limit=200',
    headers: asAdmin,
  })
  t.equal(audit.statusCode, 200)
  t.ok(audit.json().events.length >= 10, 'the audit trail has the day in it')
  const types = audit.json().events.map((event: { type: string }) => event.type)
  t.ok(types.includes('link.viewed'), 'the link views are in it')
  const metrics = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${metricsKey.key}` },
  })
  t.equal(metrics.statusCode, 200)
  const places = {
    'the audit trail': audit.body,
    'the webhook bodies': receiver.received.map((r) => r.body).join('\n'),
    'the webhook headers': JSON.stringify(receiver.received.map((r) => r.headers)),
    'the metrics scrape': metrics.body,
    'the log': h.logs.join(''),
  }
  t.ok(secrets.size >= 14, `${secrets.size} secrets to look for`)
  for (const [place, text] of Object.entries(places)) {
    t.ok(text.length > 0, `${place} is not empty`)
    for (const [what, value] of secrets) {
      t.notOk(text.includes(value), `no ${what} in ${place}`)
    }
    t.equal(codes.size, 8, 'four sign-in codes, two spellings each')
    for (const [what, value] of codes) {
      t.notOk(text.includes(value), `no ${what} in ${place}`)
    }
  }
})
