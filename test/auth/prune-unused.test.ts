import t from 'tap'
import { build, type TestApp } from '../helpers/app.js'
import { postLink } from '../helpers/http.js'
import { Browser, mailedLink, openAndConfirm, requestLink, userByEmail } from '../helpers/pages.js'

// The hourly housekeeping deletes users that the hosted form created and nobody ever signed in
// as, and stand-in ids, once unused for 30 days (HOSTED_SIGNUP, issue item 10). Users a backend
// created stay: it may hold their ids for months without a sign-in.

const DAY = 86_400

let counter = 0
const freshEmail = (name: string) => `${name}-${++counter}@example.com`

/** The stand-in id an unknown address is answered with (create_user: false, by email). */
const standIn = async (h: TestApp, email: string): Promise<string> =>
  (await emailLink(h, email, false)).user_id

/** Sends what is queued, then does the housekeeping if it is due, as the running service does. */
async function sendAndTidy(h: TestApp): Promise<void> {
  await h.app.outbox.runOnce()
  await h.app.housekeeping.runDue()
}

/** POST /v1/links by email; the 202 answer's body. */
async function emailLink(h: TestApp, email: string, create_user = true) {
  const res = await postLink(h.app, { email, create_user })
  if (res.statusCode !== 202) throw new Error(`POST /v1/links answered ${res.statusCode}`)
  return res.json()
}

t.test('unused users and stand-in ids are deleted after 30 days, nothing else', async (t) => {
  const h = await build(t)
  const { app, clock } = h

  const unused = freshEmail('unused')
  await requestLink(new Browser(app), unused)
  const signedIn = freshEmail('signed-in')
  const b = new Browser(app)
  await requestLink(b, signedIn)
  t.equal((await openAndConfirm(b, await mailedLink(h, signedIn))).statusCode, 200)
  const returning = freshEmail('returning')
  await requestLink(new Browser(app), returning)
  const byBackend = freshEmail('backend')
  await emailLink(h, byBackend)
  const accessOnly = freshEmail('access')
  const access = await postLink(app, { email: accessOnly, scope: 'doc', deliver: 'none' })
  t.equal(access.statusCode, 202)
  const unknown = freshEmail('unknown')
  const phantom = await standIn(h, unknown)
  t.equal(await standIn(h, unknown), phantom, 'a stand-in id is stable')
  await sendAndTidy(h)

  clock.advance(29 * DAY)
  // Asked for again: a fresh email, so this unused user is not pruned from under it.
  await requestLink(new Browser(app), returning)
  clock.advance(2 * DAY)
  await sendAndTidy(h)

  t.notOk(await userByEmail(app, unused), 'created 31 days ago, never signed in: deleted')
  t.ok(await userByEmail(app, signedIn), 'signed in once: kept')
  t.ok(await userByEmail(app, returning), 'emailed 2 days ago: kept')
  t.ok(await userByEmail(app, byBackend), 'created by a backend, never signed in: kept')
  t.ok(await userByEmail(app, accessOnly), 'a backend’s access-link user, no email row: kept')
  t.not(await standIn(h, unknown), phantom, 'the stand-in id was forgotten')
  t.ok(
    h.logs.some((line) => line.includes('unused users and stand-in ids deleted')),
    'the log says so',
  )
})

t.test('a big backlog goes in batches, in one run', async (t) => {
  const h = await build(t, { overrides: { housekeeping: { pruneBatch: 2 } } })
  const emails = Array.from({ length: 5 }, () => freshEmail('backlog'))
  for (const email of emails) await requestLink(new Browser(h.app), email)
  await sendAndTidy(h)
  h.clock.advance(31 * DAY)
  await sendAndTidy(h)
  for (const email of emails) t.notOk(await userByEmail(h.app, email), `${email}: deleted`)
  const line = h.logs.find((l) => l.includes('unused users and stand-in ids deleted'))
  t.match(JSON.parse(line ?? '{}'), { users: 5, phantoms: 5 })
})

t.test('the housekeeping runs at most hourly', async (t) => {
  const h = await build(t)
  const email = freshEmail('hourly')
  await requestLink(new Browser(h.app), email)
  await sendAndTidy(h)
  h.clock.advance(30 * DAY - 300)
  await sendAndTidy(h)
  t.ok(await userByEmail(h.app, email), 'not yet unused for 30 days: kept')
  h.clock.advance(600)
  await sendAndTidy(h)
  t.ok(await userByEmail(h.app, email), 'due, but the last prune was ten minutes ago')
  h.clock.advance(3600)
  await sendAndTidy(h)
  t.notOk(await userByEmail(h.app, email), 'pruned within the hour')
})
