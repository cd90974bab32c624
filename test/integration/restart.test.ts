import t from 'tap'
import { asAdmin, asService, build, tokenOf } from '../helpers/app.js'
import { ManualClock } from '../helpers/clock.js'
import { tempDir } from '../helpers/temp.js'

// Nothing about a link lives in the process: after a restart on the same DATA_DIR, a link issued
// before it still verifies, and the user record is exactly what it was.
t.test('an unconsumed link survives a restart; the user is unchanged', async (t) => {
  const dataDir = tempDir(t)
  const clock = new ManualClock()

  const before = await build(t, { dataDir, clock })
  const issued = await before.app.inject({
    method: 'POST',
    url: '/v1/links',
    headers: asService,
    payload: { email: 'restart@example.com', deliver: 'none', redirect_to: '/home' },
  })
  t.equal(issued.statusCode, 202)
  const userId: string = issued.json().user_id
  const token = tokenOf(issued.json().link)
  const userBefore = await before.app.inject({
    method: 'GET',
    url: `/v1/admin/users/${userId}`,
    headers: asAdmin,
  })
  t.equal(userBefore.statusCode, 200)
  await before.close()

  clock.advance(60)
  const after = await build(t, { dataDir, clock })

  const userAfter = await after.app.inject({
    method: 'GET',
    url: `/v1/admin/users/${userId}`,
    headers: asAdmin,
  })
  t.equal(userAfter.statusCode, 200)
  t.same(userAfter.json(), userBefore.json(), 'the user record is identical')

  const verified = await after.app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token, redirect_to: '/home' },
  })
  t.equal(verified.statusCode, 200, 'the link verifies on the new app')
  const body = verified.json()
  t.equal(body.user.id, userId)
  t.equal(body.redirect_to, '/home')
  t.ok(body.session?.jwt, 'and signs in')

  const again = await after.app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token, redirect_to: '/home' },
  })
  t.equal(again.statusCode, 401)
  t.equal(again.json().code, 'token_used', 'single use holds across the restart')

  const sameEmail = await after.app.inject({
    method: 'POST',
    url: '/v1/links',
    headers: asService,
    payload: { email: 'restart@example.com', deliver: 'none', create_user: false },
  })
  t.equal(sameEmail.json().user_id, userId, 'the email still names the same user')
})

t.test('a consumed link stays consumed after a restart', async (t) => {
  const dataDir = tempDir(t)

  const before = await build(t, { dataDir })
  const issued = await before.app.inject({
    method: 'POST',
    url: '/v1/links',
    headers: asService,
    payload: { email: 'consumed@example.com', deliver: 'none' },
  })
  const token = tokenOf(issued.json().link)
  const first = await before.app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token },
  })
  t.equal(first.statusCode, 200)
  await before.close()

  const after = await build(t, { dataDir })
  const replay = await after.app.inject({
    method: 'POST',
    url: '/v1/links/verify',
    headers: asService,
    payload: { token },
  })
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'token_used')
  const { session } = first.json()
  const refreshed = await after.app.inject({
    method: 'POST',
    url: '/v1/sessions/refresh',
    headers: asService,
    payload: { refresh_token: session.refresh_token },
  })
  t.equal(refreshed.statusCode, 200, 'the refresh token from before the restart works')
})
