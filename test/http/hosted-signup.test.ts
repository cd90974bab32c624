import t from 'tap'
import { asAdmin, build } from '../helpers/app.js'
import { apiLink } from '../helpers/http.js'
import {
  adminAction,
  answerShape,
  Browser,
  HEADINGS,
  heading,
  mailedLink,
  openAndConfirm,
  requestLink,
  userByEmail,
} from '../helpers/pages.js'

// HOSTED_SIGNUP=false: the hosted form signs in existing users only, and says and does the same
// for every address (DESIGN 14), as create_user: false does on the API.

let counter = 0
const freshEmail = (name: string) => `${name}-${++counter}@example.com`

t.test('HOSTED_SIGNUP=false: existing users only, the same answer for everyone', async (t) => {
  const h = await build(t, { env: { HOSTED_SIGNUP: 'false' } })
  t.equal(h.config.hostedSignup, false)
  const existing = freshEmail('existing')
  await apiLink(h.app, { email: existing, create_user: true })
  const disabled = freshEmail('disabled')
  await adminAction(h.app, (await apiLink(h.app, { email: disabled })).userId, 'disable')
  const unknown = freshEmail('unknown')

  const browsers = new Map<string, Browser>()
  const answers = []
  for (const email of [unknown, existing, disabled]) {
    const b = new Browser(h.app)
    browsers.set(email, b)
    answers.push(answerShape(email, await requestLink(b, email)))
  }
  const [first, ...rest] = answers
  t.equal(first?.status, 200)
  t.match(heading(first?.body ?? ''), HEADINGS.sent, 'the "check your email" page')
  for (const [i, other] of rest.entries()) {
    t.same(other, first, `${['existing', 'disabled'][i]}: the same answer as an unknown address`)
  }

  t.notOk(await userByEmail(h.app, unknown), 'no user was created for the unknown address')
  const outbox = await h.app.inject({ method: 'GET', url: '/v1/admin/outbox', headers: asAdmin })
  const rows = outbox.json().messages as { to: string; status: string; reason: string }[]
  const unknownRows = rows.filter((m) => m.to === unknown)
  t.equal(unknownRows.length, 1, 'the unknown address got its outbox row, like any other')

  await h.app.outbox.runOnce()
  t.same(
    h.mail.map((m) => m.to),
    [existing],
    'only the existing, active user is sent an email',
  )
  const after = await h.app.inject({ method: 'GET', url: '/v1/admin/outbox', headers: asAdmin })
  t.match(
    (after.json().messages as { to: string }[]).find((m) => m.to === unknown),
    { status: 'suppressed', reason: 'unknown_address' },
    'suppressed, as create_user: false on the API',
  )

  const signedIn = await openAndConfirm(
    browsers.get(existing) as Browser,
    await mailedLink(h, existing),
  )
  t.equal(signedIn.statusCode, 200, 'the existing user signs in')
  t.match(heading(signedIn.body), HEADINGS.signedIn)
})

t.test('HOSTED_SIGNUP defaults to true: the form creates the user', async (t) => {
  const h = await build(t)
  t.equal(h.config.hostedSignup, true)
  const email = freshEmail('new')
  await requestLink(new Browser(h.app), email)
  t.equal((await userByEmail(h.app, email))?.status, 'active')
  await h.app.outbox.runOnce()
  t.same(
    h.mail.map((m) => m.to),
    [email],
  )
})
