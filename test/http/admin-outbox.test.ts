import t from 'tap'
import { asAdmin, asService, build } from '../helpers/app.js'
import { assertProblem, postLink } from '../helpers/http.js'

const h = await build(t, { overrides: { mailer: { send: async () => ({ providerId: 'p-1' }) } } })
const { app } = h

const outbox = (query = '', headers: Record<string, string> = asAdmin) =>
  app.inject({ method: 'GET', url: `/v1/admin/outbox${query}`, headers })

t.test('delivery state is visible to admins, never the link', async (t) => {
  const sent = (await postLink(app, { email: 'seen@example.com', deliver: 'email' })).json()
  await postLink(app, { email: 'nobody@example.com', deliver: 'email', create_user: false })
  let res = await outbox()
  t.equal(res.statusCode, 200)
  // Both wait for the worker alike: whether one is sent is decided there, not in the request.
  t.same(res.json().counts, { pending: 2, sent: 0, failed: 0, suppressed: 0 })
  const [unknown, pending] = res.json().messages
  t.match(unknown, { to: 'nobody@example.com', status: 'pending', reason: null })
  t.equal(unknown.user_id, null)
  t.match(pending, {
    kind: 'email',
    user_id: sent.user_id,
    to: 'seen@example.com',
    status: 'pending',
    attempts: 0,
  })
  t.type(pending.next_attempt_at, 'string')

  await app.outbox.runOnce()
  res = await outbox('?status=suppressed')
  t.same(res.json().counts, { pending: 0, sent: 1, failed: 0, suppressed: 1 })
  const [suppressed] = res.json().messages
  t.match(suppressed, {
    to: 'nobody@example.com',
    status: 'suppressed',
    reason: 'unknown_address',
    user_id: null,
    attempts: 1,
    sent_at: null,
    last_error: null,
  })
  res = await outbox(`?status=sent&user_id=${sent.user_id}`)
  const [message] = res.json().messages
  t.match(message, { status: 'sent', attempts: 1, last_error: null, next_attempt_at: null })
  t.match(message, { delivery: null, delivery_at: null }, 'nothing reported by the provider yet')
  t.same((await outbox('?kind=webhook')).json().messages, [], 'no webhooks: none listed')
  t.equal((await outbox('?kind=email')).json().messages.length, 2, 'both emails')
  t.type(message.sent_at, 'string')
  t.notMatch(res.body, /token=|login\/link/, 'no link, no token')
  t.same(Object.keys(message).sort(), [
    'attempts',
    'created_at',
    'delivery',
    'delivery_at',
    'id',
    'kind',
    'last_error',
    'next_attempt_at',
    'reason',
    'sent_at',
    'status',
    'to',
    'user_id',
  ])
})

t.test('pages backwards with next, and only admins may look', async (t) => {
  for (let i = 0; i < 3; i++)
    await postLink(app, { email: `page-${i}@example.com`, deliver: 'email' })
  const first = (await outbox('?limit=2')).json()
  t.equal(first.messages.length, 2)
  t.type(first.next, 'string')
  const second = (await outbox(`?limit=2&before=${first.next}`)).json()
  const ids = [...first.messages, ...second.messages].map((m: { id: string }) => m.id)
  t.equal(new Set(ids).size, ids.length, 'no message twice')
  t.same([...ids].sort().reverse(), ids, 'newest first across pages')

  assertProblem(t, await outbox('', asService), 403, 'forbidden')
  assertProblem(t, await outbox('', {}), 401, 'unauthorized')
  assertProblem(t, await outbox('?status=lost'), 400, 'invalid_request')
  assertProblem(t, await outbox('?kind=sms'), 400, 'invalid_request')
  assertProblem(t, await outbox('?limit=0'), 400, 'invalid_request')
})
