import t from 'tap'
import { asAdmin, asService, build } from '../helpers/app.js'
import { assertProblem } from '../helpers/http.js'
import { Browser, mailedLink, mustForm, requestLink } from '../helpers/pages.js'

// GET and DELETE /v1/admin/suppressions: what a "this wasn't me" report paused, and lifting it.

const h = await build(t)
const { app, clock } = h
const admin = (method: 'GET' | 'DELETE', url: string, headers: Record<string, string> = asAdmin) =>
  app.inject({ method, url, headers })

/** Asks for a link for `email` in a new browser, then reports it from the email. */
async function report(email: string) {
  const b = new Browser(app)
  await requestLink(b, email)
  await mailedLink(h, email)
  const text = h.mail.findLast((m) => m.to === email)?.text ?? ''
  const link = /https:\/\/\S+\/login\/report\?token=\S+/.exec(text)?.[0] ?? ''
  const page = await b.get(link)
  const res = await b.post('/login/report', mustForm(page.body, '/login/report'))
  if (res.statusCode !== 200) throw new Error(`report answered ${res.statusCode}`)
}

t.test('a report is listed, by inbox, until it expires or is lifted', async (t) => {
  await report('Ada.Lovelace+news@gmail.com')
  await report('bob@example.com')
  const res = await admin('GET', '/v1/admin/suppressions')
  t.equal(res.statusCode, 200)
  const [ada, bob] = res.json().suppressions
  t.match(ada, {
    address: 'adalovelace@gmail.com',
    email: 'Ada.Lovelace+news@gmail.com',
    reason: 'reported',
  })
  t.equal(Date.parse(ada.expires_at) - Date.parse(ada.created_at), 24 * 3600 * 1000, '24 hours')
  t.equal(bob.address, 'bob@example.com')
  t.equal(res.json().next, undefined, 'one page')

  const paged = await admin('GET', '/v1/admin/suppressions?limit=1')
  t.equal(paged.json().next, 'adalovelace@gmail.com')
  const rest = await admin('GET', `/v1/admin/suppressions?limit=1&after=${paged.json().next}`)
  t.same(
    rest.json().suppressions.map((e: { address: string }) => e.address),
    ['bob@example.com'],
  )

  for (const bad of ['%00', 'a%00b']) {
    const res = await admin('GET', `/v1/admin/suppressions?after=${bad}`)
    t.equal(res.statusCode, 400, `after=${bad}: a 400, not a 500`)
    t.equal(res.json().code, 'invalid_request')
  }

  // Lifted by any spelling of the inbox: email flows again at once.
  const lifted = await admin('DELETE', '/v1/admin/suppressions/a.d.a.lovelace%40googlemail.com')
  t.equal(lifted.statusCode, 204)
  const again = await admin('DELETE', '/v1/admin/suppressions/adalovelace%40gmail.com')
  assertProblem(t, again, 404, 'not_found')
  const mails = h.mail.length
  await requestLink(new Browser(app), 'Ada.Lovelace+news@gmail.com')
  await app.outbox.runOnce()
  t.equal(h.mail.length, mails + 1, 'sent again')

  clock.advance(24 * 3600)
  const later = await admin('GET', '/v1/admin/suppressions')
  t.same(later.json().suppressions, [], 'expired entries are not listed')
  assertProblem(t, await admin('DELETE', '/v1/admin/suppressions/bob%40example.com'), 404)
})

t.test('admins only; bad input is a 400', async (t) => {
  assertProblem(t, await admin('GET', '/v1/admin/suppressions', asService), 403, 'forbidden')
  assertProblem(t, await admin('GET', '/v1/admin/suppressions', {}), 401, 'unauthorized')
  assertProblem(t, await admin('DELETE', '/v1/admin/suppressions/x%40example.com', asService), 403)
  assertProblem(t, await admin('GET', '/v1/admin/suppressions?limit=0'), 400, 'invalid_request')
  assertProblem(t, await admin('DELETE', '/v1/admin/suppressions/not-an-address'), 400)
})
