import t from 'tap'
import { asAdmin, asService, build } from '../helpers/app.js'
import { apiLink, assertProblem, postVerify } from '../helpers/http.js'

// The revocation feed (DESIGN): what a backend that verifies JWTs locally
// follows to learn of revoked users and ended sessions, with a cursor it keeps between reads.

let counter = 0
const email = () => `feed-${++counter}@example.com`

interface Page {
  revocations: { user_id: string; rev: number; session_id?: string; reason: string; at: string }[]
  cursor: string
}

t.test('revokes, disables, deletes and ended sessions, in order, after a cursor', async (t) => {
  const { app } = await build(t)
  const feed = async (query = '', headers = asService): Promise<Page> => {
    const res = await app.inject({ method: 'GET', url: `/v1/revocations?${query}`, headers })
    t.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  const signIn = async () => {
    const { userId, token } = await apiLink(app, { email: email() })
    const { session } = (await postVerify(app, { token })).json()
    return { userId, sessionId: session.session_id as string }
  }
  const start = await feed()
  t.strictSame(start.revocations, [])

  const alice = await signIn()
  const bob = await signIn()
  await app.inject({
    method: 'POST',
    url: '/v1/sessions/end',
    headers: asService,
    payload: { session_id: alice.sessionId },
  })
  const admin = (method: 'POST' | 'DELETE', userId: string, action: string) =>
    app.inject({ method, url: `/v1/admin/users/${userId}${action}`, headers: asAdmin })
  await admin('POST', bob.userId, '/revoke')
  await admin('POST', alice.userId, '/disable')
  await admin('POST', alice.userId, '/enable')
  await admin('DELETE', bob.userId, '')

  const page = await feed(`after=${start.cursor}`)
  t.strictSame(
    page.revocations.map(({ at: _, ...r }) => r),
    [
      { user_id: alice.userId, rev: 0, session_id: alice.sessionId, reason: 'logout' },
      { user_id: bob.userId, rev: 1, reason: 'revoked' },
      { user_id: bob.userId, rev: 1, session_id: bob.sessionId, reason: 'revoked' },
      { user_id: alice.userId, rev: 1, reason: 'disabled' },
      { user_id: bob.userId, rev: 2, reason: 'deleted' },
    ],
  )
  t.match(page.revocations[0]?.at, /^\d{4}-\d\d-\d\dT/)
  const again = await feed(`after=${page.cursor}`)
  t.strictSame(again, { revocations: [], cursor: page.cursor }, 'nothing new: the same cursor')

  const twos: Page['revocations'] = []
  let cursor = start.cursor
  for (let i = 0; i < 5; i++) {
    const next = await feed(`after=${cursor}&limit=2`)
    twos.push(...next.revocations)
    cursor = next.cursor
  }
  t.strictSame(twos, page.revocations, 'pages of two join up')
  t.equal(cursor, page.cursor)

  for (const bad of ['after=nope!', 'after=bm9wZQ', 'limit=0', 'limit=1001', 'x=1']) {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/revocations?${bad}`,
      headers: asService,
    })
    assertProblem(t, res, 400, 'invalid_request')
  }
  const anonymous = await app.inject({ method: 'GET', url: '/v1/revocations' })
  assertProblem(t, anonymous, 401, 'unauthorized')
  t.equal((await feed('', asAdmin)).revocations.length, 5, 'an admin key may read it too')
})
