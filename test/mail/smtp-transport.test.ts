import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { DeliveryFailure, type MailMessage } from '../../src/mail/mailer.js'
import {
  failureOf,
  requiresTls,
  SmtpTransport,
  senderDomain,
} from '../../src/mail/smtp-transport.js'
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js'
import { freePort, ROOT } from '../helpers/process.js'

// Against a real SMTP server (smtp-server) on loopback, started by each test: what arrives, and
// what each way of not arriving becomes.

const FROM = 'Acme <login@acme.example>'
const message: MailMessage = {
  to: 'ada.secret@example.com',
  subject: 'Subject-7f3a: sign in to Acme – schön',
  text: 'Sign in: https://login.example.test/login/link?token=abc\n\nThis link works once.',
  html: '<p><a href="https://login.example.test/login/link?token=abc">Sign in</a> – schön</p>',
}
const KEY = 'latchkey-outbox-0190b6d2-7a4e-7c3d-9f1e-2b3c4d5e6f70'

async function fakeFor(t: Test): Promise<FakeSmtp> {
  const fake = await startFakeSmtp()
  t.teardown(() => fake.close())
  return fake
}

const transportFor = (url: string, timeoutMs = 2_000) =>
  new SmtpTransport({ url, from: FROM, timeoutMs })

/** The failure a send rejects with; fails the test when it resolves or throws anything else. */
async function failureFrom(t: Test, attempt: Promise<unknown>): Promise<DeliveryFailure> {
  const outcome = await attempt.then(
    () => undefined,
    (err: unknown) => err,
  )
  if (!(outcome instanceof DeliveryFailure)) {
    t.fail('the send rejects with a DeliveryFailure', { found: outcome })
    throw new Error('not a DeliveryFailure')
  }
  // Failures end up in logs and outbox rows: never with who it was for, what it said, or the
  // relay's password.
  for (const secret of [message.to, 'ada.secret', 'Subject-7f3a', 'token=abc', 'p@ss', 'w:rd']) {
    t.notOk(outcome.message.includes(secret), `the failure message does not contain ${secret}`)
  }
  return outcome
}

t.test(
  'a message the server accepts arrives whole, and resolves with its Message-ID',
  async (t) => {
    const fake = await fakeFor(t)
    const result = await transportFor(fake.url).send(message, { idempotencyKey: KEY })

    t.equal(fake.emails.length, 1)
    const email = await fake.nextEmail(message.to)
    t.equal(email.user, fake.user, 'signed in with the credentials of the URL, percent-decoded')
    t.equal(email.mailFrom, 'login@acme.example', 'the envelope sender is MAIL_FROM')
    t.same(email.rcptTo, [message.to], 'one recipient')
    t.equal(email.headers.from, FROM)
    t.equal(email.headers.to, message.to)
    t.equal(email.subject, message.subject, 'the subject, non-ASCII included')
    t.match(email.headers['content-type'], /^multipart\/alternative/)
    t.equal(email.text, message.text, 'the text part')
    t.equal(email.html, message.html, 'the HTML part')
    t.equal(email.messageId, `<${KEY}@acme.example>`, 'the idempotency key is the Message-ID')
    t.same(result, { providerId: `<${KEY}@acme.example>` })
  },
)

t.test('every attempt at one message carries the same Message-ID', async (t) => {
  const fake = await fakeFor(t)
  const transport = transportFor(fake.url)
  await transport.send(message, { idempotencyKey: KEY })
  await transport.send(message, { idempotencyKey: KEY })
  await transport.send(message, { idempotencyKey: 'latchkey-outbox-other' })
  t.same(
    fake.emails.map((e) => e.messageId),
    [`<${KEY}@acme.example>`, `<${KEY}@acme.example>`, '<latchkey-outbox-other@acme.example>'],
  )
})

t.test('4xx replies are temporary, wherever they come', async (t) => {
  for (const at of ['rcpt', 'data'] as const) {
    const fake = await fakeFor(t)
    fake.refuse(at, 451, `4.3.0 <${message.to}>: temporarily deferred`)
    const failure = await failureFrom(
      t,
      transportFor(fake.url).send(message, { idempotencyKey: KEY }),
    )
    t.equal(failure.options.permanent, false, `451 at ${at}: worth retrying`)
    t.equal(failure.options.status, 451)
    t.equal(
      failure.message,
      `SMTP server answered 451 4.3.0 to ${at === 'rcpt' ? 'RCPT TO' : 'DATA'}`,
    )
    t.equal(fake.emails.length, 0)
  }
})

t.test('5xx replies are permanent, wherever they come', async (t) => {
  for (const [at, code, enhanced] of [
    ['rcpt', 550, '5.1.1'],
    ['data', 554, '5.7.1'],
  ] as const) {
    const fake = await fakeFor(t)
    fake.refuse(at, code, `${enhanced} <${message.to}>: Recipient address rejected`)
    const failure = await failureFrom(
      t,
      transportFor(fake.url).send(message, { idempotencyKey: KEY }),
    )
    t.equal(failure.options.permanent, true, `${code} at ${at}: retrying cannot help`)
    t.equal(failure.options.status, code)
    t.match(failure.message, new RegExp(`^SMTP server answered ${code} ${enhanced} to `))
    t.equal(failure.name, 'DeliveryFailure')
  }
})

t.test('credentials the server refuses are a permanent failure (535), as at Resend', async (t) => {
  const fake = await fakeFor(t)
  const wrong = fake.url.replace(encodeURIComponent(fake.password), 'wrong')
  const failure = await failureFrom(t, transportFor(wrong).send(message, { idempotencyKey: KEY }))
  t.equal(failure.options.permanent, true)
  t.equal(failure.options.status, 535)
  t.match(failure.message, /^SMTP server answered 535 /)
  t.equal(fake.attempts, 0, 'no transaction began')
})

t.test('a refused connection is temporary', async (t) => {
  const port = await freePort()
  const failure = await failureFrom(
    t,
    transportFor(`smtp://u:p%40ss@127.0.0.1:${port}`).send(message, { idempotencyKey: KEY }),
  )
  t.equal(failure.options.permanent, false)
  t.equal(failure.options.status, undefined)
  t.equal(failure.message, 'the SMTP server could not be reached (ESOCKET, ECONNREFUSED)')
})

t.test('a connection dropped in the middle of the message is temporary', async (t) => {
  const fake = await fakeFor(t)
  fake.drop()
  const transport = transportFor(fake.url)
  const failure = await failureFrom(t, transport.send(message, { idempotencyKey: KEY }))
  t.equal(failure.options.permanent, false)
  t.equal(failure.options.status, undefined)
  t.match(failure.message, /^the SMTP server closed the connection \(ECONNECTION/)
  t.equal(fake.emails.length, 0, 'nothing was accepted')

  // The next attempt is a connection of its own, and goes through.
  await transport.send(message, { idempotencyKey: KEY })
  t.equal(fake.emails.length, 1)
  t.equal(fake.attempts, 2)
})

t.test('a server that never greets is given up on, temporarily', async (t) => {
  const sockets = new Set<import('node:net').Socket>()
  const silent: Server = createServer((socket) => sockets.add(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    silent.close()
  })
  const { port } = silent.address() as import('node:net').AddressInfo
  const started = Date.now()
  const failure = await failureFrom(
    t,
    transportFor(`smtp://127.0.0.1:${port}`, 300).send(message, { idempotencyKey: KEY }),
  )
  t.ok(Date.now() - started < 5_000, 'within the bound, not nodemailer’s 30 s default')
  t.equal(failure.options.permanent, false)
  t.equal(failure.message, 'SMTP delivery did not finish within 300 ms')
})

t.test('an attempt that outlasts timeoutMs is cut and temporary', async (t) => {
  const fake = await fakeFor(t)
  fake.stall(1_500)
  const failure = await failureFrom(
    t,
    transportFor(fake.url, 400).send(message, { idempotencyKey: KEY }),
  )
  t.equal(failure.options.permanent, false)
  t.equal(failure.message, 'SMTP delivery did not finish within 400 ms')
})

t.test('the URL cannot switch on logging of the transcript, which holds the link', async (t) => {
  const fake = await fakeFor(t)
  const written: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  const writeErr = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof write
  process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof writeErr
  try {
    await transportFor(`${fake.url}?logger=true&debug=true&transactionLog=true`).send(message, {
      idempotencyKey: KEY,
    })
  } finally {
    process.stdout.write = write
    process.stderr.write = writeErr
  }
  t.equal(fake.emails.length, 1)
  t.notOk(written.join('').includes('token=abc'), 'nothing of the message reached the console')
})

t.test('STARTTLS is required off this machine, unless the URL says otherwise', async (t) => {
  const remote = 'mail.example.com'
  t.equal(requiresTls({ host: remote, secure: false }), true, 'smtp:// to another host')
  t.equal(requiresTls({ host: remote, secure: true }), false, 'smtps:// is TLS already')
  t.equal(requiresTls({ host: remote, requireTLS: false }), false, '?requireTLS=false')
  t.equal(requiresTls({ host: remote, ignoreTLS: true }), false, '?ignoreTLS=true')
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', 'LOCALHOST']) {
    t.equal(requiresTls({ host }), false, `${host} is this machine`)
  }
  t.equal(requiresTls({ host: '127.0.0.1', requireTLS: true }), true, 'unless asked for')
  t.equal(requiresTls({ host: '10.0.0.5' }), true, 'a private network is still a network')
})

t.test('the constructor asks nodemailer for STARTTLS to a host off this machine', async (t) => {
  // What SmtpTransport hands nodemailer, recorded on its way to the real createTransport: the
  // URL's host must reach requiresTls as parsed, or a remote relay would pass for localhost.
  const nodemailer = await import('nodemailer')
  const given: Record<string, unknown>[] = []
  const { SmtpTransport: Recorded } = await t.mockImport<
    typeof import('../../src/mail/smtp-transport.js')
  >('../../src/mail/smtp-transport.js', {
    nodemailer: {
      ...nodemailer,
      createTransport: (options: Record<string, unknown>) => {
        given.push(options)
        return nodemailer.createTransport(options)
      },
    },
  })
  const optionsFor = (url: string) => {
    new Recorded({ url, from: FROM })
    return given.at(-1)
  }
  t.match(
    optionsFor('smtp://user:p%40ss@relay.example.com:587'),
    { host: 'relay.example.com', port: 587, secure: false, requireTLS: true },
    'a relay by name: STARTTLS required',
  )
  t.match(optionsFor('smtp://user:pw@10.0.0.5:25'), { requireTLS: true }, 'a private address too')
  t.match(optionsFor('smtp://user:pw@127.0.0.1:25'), { requireTLS: false }, 'this machine: not')
  t.match(
    optionsFor('smtp://user:pw@relay.example.com:587?requireTLS=false'),
    { requireTLS: false },
    'unless the URL says so',
  )
  t.match(
    optionsFor('smtps://user:pw@relay.example.com'),
    { secure: true, requireTLS: false },
    'smtps:// is TLS from the first byte',
  )
})

t.test('a server that offers no STARTTLS when TLS is required: nothing is sent', async (t) => {
  const fake = await fakeFor(t)
  const failure = await failureFrom(
    t,
    transportFor(`${fake.url}?requireTLS=true`).send(message, { idempotencyKey: KEY }),
  )
  t.type(failure, DeliveryFailure)
  t.equal(fake.emails.length, 0, 'the message never crossed in clear')
})

t.test('failureOf: the classification without a server', async (t) => {
  const cases: [object, boolean, string][] = [
    [{ code: 'EENVELOPE', responseCode: 421, command: 'RCPT TO' }, false, 'answered 421 to RCPT'],
    [{ code: 'EPROTOCOL', responseCode: 503, command: 'DATA' }, false, 'answered 503 to DATA'],
    [{ code: 'EAUTH', responseCode: 454, command: 'AUTH PLAIN' }, false, 'answered 454'],
    [{ code: 'EMESSAGE', responseCode: 552, command: 'DATA' }, true, 'answered 552 to DATA'],
    [{ code: 'EENVELOPE', command: 'API' }, true, 'refused before sending (EENVELOPE)'],
    [{ code: 'ENOAUTH' }, true, 'refused before sending (ENOAUTH)'],
    [{ code: 'EDNS', originalCode: 'ENOTFOUND' }, false, 'did not resolve (EDNS, ENOTFOUND)'],
    [{ code: 'ETLS' }, false, 'TLS with the SMTP server failed (ETLS)'],
    [{ code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT' }, false, 'in time to connect'],
    [{ code: 'EABORT' }, false, 'did not finish within 5 ms'],
    [new Error(`boom ${message.to}`), false, 'could not be reached'],
    [{ code: 'weird code with ada.secret@example.com' }, false, 'could not be reached'],
  ]
  for (const [error, permanent, words] of cases) {
    const failure = failureOf(error, false, 5)
    t.equal(failure.options.permanent, permanent, `${JSON.stringify(error)}: permanent`)
    t.ok(failure.message.includes(words), `${failure.message} says ${words}`)
    t.notOk(failure.message.includes('ada.secret'))
  }
  t.equal(failureOf({ responseCode: 550 }, true, 5).options.permanent, true, 'a reply wins')
  t.equal(failureOf({}, true, 5).message, 'SMTP delivery did not finish within 5 ms')
})

t.test('the Message-ID domain is the sender’s', async (t) => {
  t.equal(senderDomain('Acme <login@acme.example>'), 'acme.example')
  t.equal(senderDomain('login@mail.acme.example'), 'mail.acme.example')
  t.equal(senderDomain('"A <b@c>" <login@acme.example>'), 'acme.example')
  t.equal(senderDomain('nobody'), 'localhost')
  t.equal(senderDomain('x@bad domain'), 'localhost')
})

t.test('the constructor refuses what cannot work', async (t) => {
  t.throws(() => new SmtpTransport({ url: 'https://x', from: FROM }), TypeError)
  t.throws(() => new SmtpTransport({ url: 'smtp://x', from: '' }), TypeError)
  t.throws(() => new SmtpTransport({ url: 'smtp://x', from: FROM, timeoutMs: 0 }), TypeError)
})

t.test('only src/mail/smtp-transport.ts imports nodemailer', async (t) => {
  const src = join(ROOT, 'src')
  const importers = (readdirSync(src, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .filter((file) => /from 'nodemailer(\/[^']*)?'/.test(readFileSync(join(src, file), 'utf8')))
  t.same(importers, ['mail/smtp-transport.ts'])
})

t.test('the message’s language goes out as its Content-Language header', async (t) => {
  const fake = await fakeFor(t)
  await transportFor(fake.url).send({ ...message, lang: 'fr' }, { idempotencyKey: KEY })
  const email = await fake.nextEmail(message.to)
  t.equal(email.headers['content-language'], 'fr')
})
