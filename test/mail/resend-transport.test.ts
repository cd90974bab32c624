import t, { type Test } from 'tap'
import { DeliveryFailure, type MailMessage } from '../../src/mail/mailer.js'
import { ResendTransport } from '../../src/mail/resend-transport.js'
import { parseRetryAfter } from '../../src/mail/retry-after.js'
import { type FakeResend, startFakeResend } from '../helpers/fake-resend.js'

const FROM = 'Acme <login@acme.example>'
const message: MailMessage = {
  to: 'ada.secret@example.com',
  subject: 'Subject-7f3a: sign in to Acme',
  text: 'Sign in: https://login.example.test/login/link?token=abc',
  html: '<p><a href="https://login.example.test/login/link?token=abc">Sign in</a></p>',
}

async function fakeFor(t: Test): Promise<FakeResend> {
  const fake = await startFakeResend()
  t.teardown(() => fake.close())
  return fake
}

const transportFor = (fake: FakeResend, timeoutMs = 2_000, now = Date.now) =>
  new ResendTransport({ apiKey: fake.apiKey, from: FROM, baseUrl: fake.url, timeoutMs, clock: now })

/** The failure a send rejects with; fails the test when it resolves or throws anything else. */
async function failureOf(t: Test, attempt: Promise<unknown>): Promise<DeliveryFailure> {
  const outcome = await attempt.then(
    () => undefined,
    (err: unknown) => err,
  )
  if (!(outcome instanceof DeliveryFailure)) {
    t.fail('the send rejects with a DeliveryFailure', { found: outcome })
    throw new Error('not a DeliveryFailure')
  }
  // Failures end up in logs and outbox rows: never with who it was for or what it said.
  for (const secret of [message.to, 'ada.secret', message.subject, 'token=abc']) {
    t.notOk(outcome.message.includes(secret), `the failure message does not contain ${secret}`)
  }
  return outcome
}

t.test('a message Resend accepts resolves with its id, sent as given', async (t) => {
  const fake = await fakeFor(t)
  const result = await transportFor(fake).send(message, { idempotencyKey: 'outbox-1' })

  t.equal(fake.emails.length, 1)
  const [email] = fake.emails
  t.same(result, { providerId: email?.id })
  t.match(email, {
    from: FROM,
    to: [message.to],
    subject: message.subject,
    html: message.html,
    text: message.text,
    idempotencyKey: 'outbox-1',
  })
  t.match(fake.requests, [
    { method: 'POST', path: '/emails', idempotencyKey: 'outbox-1', status: 200 },
  ])
})

t.test('a retry after a lost answer returns the first email, and sends no second', async (t) => {
  const fake = await fakeFor(t)
  const transport = transportFor(fake, 200)
  fake.delay(1_000)

  const lost = await failureOf(t, transport.send(message, { idempotencyKey: 'outbox-2' }))
  t.equal(lost.options.permanent, false, 'a timeout is worth retrying')
  t.equal(lost.options.status, undefined)
  t.equal(fake.emails.length, 1, 'the provider accepted it even though the answer never came')

  const retried = await transport.send(message, { idempotencyKey: 'outbox-2' })
  t.equal(fake.emails.length, 1, 'exactly one email')
  t.equal(retried.providerId, fake.emails[0]?.id, 'the retry learns the id of the first email')
  t.equal(fake.requests.length, 2, 'both attempts reached the provider')
})

t.test('a 5xx is temporary and keeps its status', async (t) => {
  const fake = await fakeFor(t)
  fake.fail(500, { name: 'internal_server_error', message: 'oops' })
  const failure = await failureOf(t, transportFor(fake).send(message, { idempotencyKey: 'k' }))
  t.equal(failure.options.permanent, false)
  t.equal(failure.options.status, 500)
  t.equal(failure.options.retryAfterSeconds, undefined)
  t.equal(failure.message, 'Resend answered 500 internal_server_error')
  t.equal(failure.name, 'DeliveryFailure')
  t.equal(fake.emails.length, 0)
})

t.test(
  'an HTML error page from a proxy is still a temporary failure with its status',
  async (t) => {
    const fake = await fakeFor(t)
    fake.fail(502, { html: '<h1>502 Bad Gateway</h1>', retryAfter: 'soon' })
    const failure = await failureOf(t, transportFor(fake).send(message, { idempotencyKey: 'k' }))
    t.equal(failure.options.permanent, false)
    t.equal(failure.options.status, 502)
    t.equal(failure.options.retryAfterSeconds, undefined, 'a garbage Retry-After is ignored')
    t.equal(failure.message, 'Resend answered 502 application_error')
  },
)

t.test('a 429 is temporary and carries Retry-After', async (t) => {
  t.test('in seconds', async (t) => {
    const fake = await fakeFor(t)
    fake.fail(429, { name: 'rate_limit_exceeded', message: 'Too many requests', retryAfter: 7 })
    const failure = await failureOf(t, transportFor(fake).send(message, { idempotencyKey: 'k' }))
    t.equal(failure.options.permanent, false)
    t.equal(failure.options.status, 429)
    t.equal(failure.options.retryAfterSeconds, 7)
    t.equal(failure.message, 'Resend answered 429 rate_limit_exceeded')
  })

  t.test('as an HTTP-date', async (t) => {
    const fake = await fakeFor(t)
    const now = Date.parse('2030-01-02T03:04:05.000Z')
    fake.fail(429, { name: 'rate_limit_exceeded', retryAfter: 'Wed, 02 Jan 2030 03:05:35 GMT' })
    const failure = await failureOf(
      t,
      transportFor(fake, 2_000, () => now).send(message, { idempotencyKey: 'k' }),
    )
    t.equal(failure.options.permanent, false)
    t.equal(failure.options.retryAfterSeconds, 90)
  })

  t.test('capped at a day', async (t) => {
    const fake = await fakeFor(t)
    fake.fail(429, { name: 'daily_quota_exceeded', retryAfter: 10_000_000 })
    const failure = await failureOf(t, transportFor(fake).send(message, { idempotencyKey: 'k' }))
    t.equal(failure.options.permanent, false, 'a quota resets; the outbox keeps the message')
    t.equal(failure.options.retryAfterSeconds, 86_400)
  })
})

t.test('Retry-After parsing', async (t) => {
  const now = Date.parse('2030-01-02T03:04:05.000Z')
  t.equal(parseRetryAfter(undefined, now), undefined)
  t.equal(parseRetryAfter('0', now), 0)
  t.equal(parseRetryAfter(' 12 ', now), 12)
  t.equal(parseRetryAfter('99999999999999999999999', now), 86_400)
  t.equal(parseRetryAfter('Wed, 02 Jan 2030 03:04:06 GMT', now), 1)
  t.equal(parseRetryAfter('Wed, 02 Jan 2030 03:00:00 GMT', now), 0, 'a date in the past: now')
  t.equal(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now), 86_400)
  t.equal(parseRetryAfter('Wed, 99 Jan 2030 99:99:99 GMT', now), undefined, 'not a real date')
  const garbage = ['', '-1', '7.5', '1e3', 'soon', '2030-01-02', 'Wed, 02 Jan 2030', '0x10']
  for (const value of garbage) {
    t.equal(parseRetryAfter(value, now), undefined, `ignores ${JSON.stringify(value)}`)
  }
})

t.test('4xx other than 408 and 429 is permanent', async (t) => {
  const cases = [
    [422, 'validation_error'],
    [401, 'restricted_api_key'],
    [403, 'invalid_from_address'],
    [400, 'invalid_idempotency_key'],
  ] as const
  for (const [status, name] of cases) {
    const fake = await fakeFor(t)
    fake.fail(status, { name, message: `about ${message.to}` })
    const failure = await failureOf(t, transportFor(fake).send(message, { idempotencyKey: 'k' }))
    t.equal(failure.options.permanent, true, `${status} ${name} is permanent`)
    t.equal(failure.options.status, status)
    t.equal(failure.message, `Resend answered ${status} ${name}`)
  }
})

t.test('a key already used with other content means an earlier attempt was accepted', async (t) => {
  const fake = await fakeFor(t)
  const transport = transportFor(fake)
  t.ok(await transport.send(message, { idempotencyKey: 'same-row' }))
  // The same row, re-rendered with different content (say, a rotated link key) on a retry.
  const changed = { ...message, text: `${message.text} (changed)` }
  t.same(await transport.send(changed, { idempotencyKey: 'same-row' }), {}, 'treated as sent')
  t.equal(fake.emails.length, 1, 'no second email')
})

t.test('408 and a concurrent attempt with the same key are temporary', async (t) => {
  for (const [status, name] of [
    [408, 'application_error'],
    [409, 'concurrent_idempotent_requests'],
  ] as const) {
    const fake = await fakeFor(t)
    fake.fail(status, { name })
    const failure = await failureOf(t, transportFor(fake).send(message, { idempotencyKey: 'k' }))
    t.equal(failure.options.permanent, false, `${status} ${name} is temporary`)
    t.equal(failure.options.status, status)
  }
})

t.test('a wrong API key is permanent', async (t) => {
  const fake = await fakeFor(t)
  const transport = new ResendTransport({ apiKey: 're_wrong', from: FROM, baseUrl: fake.url })
  const failure = await failureOf(t, transport.send(message, { idempotencyKey: 'k' }))
  t.equal(failure.options.permanent, true)
  t.equal(failure.options.status, 403)
  t.equal(failure.message, 'Resend answered 403 invalid_api_key')
  t.equal(fake.emails.length, 0)
})

t.test('a provider error name that is not a code stays out of the message', async (t) => {
  const fake = await fakeFor(t)
  fake.fail(400, { name: `Bad <${message.to}>` })
  const failure = await failureOf(t, transportFor(fake).send(message, { idempotencyKey: 'k' }))
  t.equal(failure.message, 'Resend answered 400 unknown_error')
})

t.test('connection refused is temporary, then the same key recovers', async (t) => {
  const fake = await fakeFor(t)
  const transport = transportFor(fake)
  await fake.close()

  const failure = await failureOf(t, transport.send(message, { idempotencyKey: 'outbox-3' }))
  t.equal(failure.options.permanent, false)
  t.equal(failure.options.status, undefined)
  t.equal(failure.message, 'Resend could not be reached')

  await fake.restart()
  const result = await transport.send(message, { idempotencyKey: 'outbox-3' })
  t.equal(fake.emails.length, 1)
  t.equal(result.providerId, fake.emails[0]?.id)
})

t.test('a provider that never answers times out as a temporary failure', async (t) => {
  const fake = await fakeFor(t)
  fake.hang()
  const failure = await failureOf(
    t,
    transportFor(fake, 200).send(message, { idempotencyKey: 'outbox-4' }),
  )
  t.equal(failure.options.permanent, false)
  t.equal(failure.options.status, undefined)
  t.equal(failure.message, 'Resend did not answer within 200 ms')
  t.equal(fake.emails.length, 0)
  t.match(fake.requests, [{ idempotencyKey: 'outbox-4', status: undefined }])
})

t.test('the fake honours keys like Resend: same key and payload, same id', async (t) => {
  const fake = await fakeFor(t)
  const transport = transportFor(fake)
  const first = await transport.send(message, { idempotencyKey: 'same' })
  const second = await transport.send(message, { idempotencyKey: 'same' })
  const other = await transport.send(message, { idempotencyKey: 'other' })
  t.equal(second.providerId, first.providerId)
  t.not(other.providerId, first.providerId)
  t.equal(fake.emails.length, 2)

  // A changed payload under a used key is refused by the fake with 409, as by Resend; the
  // transport reads that as "already accepted" (tested above) and nothing is sent again.
  t.same(await transport.send({ ...message, text: 'changed' }, { idempotencyKey: 'same' }), {})
  t.equal(fake.requests.at(-1)?.status, 409, 'the fake answered 409')
  t.equal(fake.emails.length, 2)
})

t.test('a caller mistake in the options is a TypeError', async (t) => {
  t.throws(() => new ResendTransport({ apiKey: '', from: FROM }), TypeError)
  t.throws(() => new ResendTransport({ apiKey: 're_x', from: '' }), TypeError)
  t.throws(() => new ResendTransport({ apiKey: 're_x', from: FROM, timeoutMs: 0 }), TypeError)
  t.throws(() => new ResendTransport({ apiKey: 're_x', from: FROM, timeoutMs: 1.5 }), TypeError)
})

t.test('a trailing slash on the base URL still reaches /emails', async (t) => {
  const fake = await fakeFor(t)
  const transport = new ResendTransport({
    apiKey: fake.apiKey,
    from: FROM,
    baseUrl: `${fake.url}/`,
  })
  await transport.send(message, { idempotencyKey: 'k' })
  t.match(fake.requests, [{ path: '/emails', status: 200 }])
})

t.test('the fake refuses a request without a key, and an unknown path, like Resend', async (t) => {
  const fake = await fakeFor(t)
  const anonymous = await fetch(`${fake.url}/emails`, { method: 'POST' })
  t.equal(anonymous.status, 401)
  t.same(await anonymous.json(), {
    statusCode: 401,
    name: 'missing_api_key',
    message: 'Missing API key in the authorization header',
  })
  const unknown = await fetch(`${fake.url}/domains`)
  t.equal(unknown.status, 404)
  t.match(await unknown.json(), { statusCode: 404, name: 'not_found' })
  t.match(fake.requests, [{ status: 401 }, { status: 404 }])
})

t.test('the message’s language goes out as its Content-Language header', async (t) => {
  const fake = await fakeFor(t)
  await transportFor(fake).send({ ...message, lang: 'de' }, { idempotencyKey: 'lang-1' })
  await transportFor(fake).send(message, { idempotencyKey: 'lang-2' })
  t.same(fake.emails[0]?.headers, { 'Content-Language': 'de' })
  t.same(fake.emails[1]?.headers, {}, 'no language, no header')
})
