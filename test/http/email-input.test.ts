import t from 'tap'
import { asAdmin, build } from '../helpers/app.js'
import { assertProblem, postLink } from '../helpers/http.js'
import { Browser, HEADINGS, heading, requestLink } from '../helpers/pages.js'

// DESIGN security 16, on every path that takes an address from outside: the API, the admin
// lookup and the hosted form all go through one normaliseEmail (test/auth/email.test.ts has its
// properties), so an invisible character is refused on each, and no user is ever stored with one.

const h = await build(t)
const { app } = h

/** `ad<c>a@example.com` for each character the issue found accepted, and a few of their kind. */
const LOOKALIKES = ['\u200b', '\u202e', '\u200c', '\u200d', '\u2060', '\u00ad', '\u3164', '\ue000']
const spoofed = (c: string) => `ad${c}a@example.com`
const named = (c: string) => `U+${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`

t.test('POST /v1/links refuses them, by email and for a link returned', async (t) => {
  for (const c of LOOKALIKES) {
    for (const deliver of ['email', 'none']) {
      const res = await postLink(app, { email: spoofed(c), deliver })
      assertProblem(t, res, 400, 'invalid_request')
    }
  }
  t.equal((await postLink(app, { email: 'ada@example.com' })).statusCode, 202, 'the real one')
})

t.test('the hosted form refuses them with the form and its message', async (t) => {
  for (const c of LOOKALIKES) {
    const res = await requestLink(new Browser(app), spoofed(c))
    t.equal(res.statusCode, 400, named(c))
    t.match(heading(res.body), HEADINGS.login, 'the form again')
    t.match(res.body, /Enter a valid email address\./)
  }
})

t.test('the admin lookup refuses them rather than finding nobody', async (t) => {
  for (const c of LOOKALIKES) {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/admin/users?email=${encodeURIComponent(spoofed(c))}`,
      headers: asAdmin,
    })
    assertProblem(t, res, 400, 'invalid_request')
  }
})

t.test('a decomposed spelling is the same user as the composed one', async (t) => {
  const composed = await postLink(app, { email: 'j\u00f6rg@example.com', deliver: 'none' })
  const decomposed = await postLink(app, { email: 'jo\u0308rg@example.com', deliver: 'none' })
  t.equal(decomposed.json().user_id, composed.json().user_id, 'one user')
  const res = await app.inject({
    method: 'GET',
    url: `/v1/admin/users?email=${encodeURIComponent('jo\u0308rg@example.com')}`,
    headers: asAdmin,
  })
  t.equal(res.json().users[0]?.email, 'j\u00f6rg@example.com', 'stored in NFC, found either way')
})

t.test('no user was stored with an invisible character', async (t) => {
  const res = await app.inject({
    method: 'GET',
    url: '/v1/admin/users?limit=200',
    headers: asAdmin,
  })
  const emails: string[] = res.json().users.map((u: { email: string }) => u.email)
  t.same(emails.sort(), ['ada@example.com', 'j\u00f6rg@example.com'])
})
