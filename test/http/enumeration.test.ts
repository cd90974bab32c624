import t, { type Test } from 'tap'
import { countingApp } from '../helpers/counting-store.js'
import { apiLink, postLink } from '../helpers/http.js'
import { adminAction } from '../helpers/pages.js'

// DESIGN security 14: known, unknown and disabled addresses get the same answer and the same work,
// during the request and after it. Work after the answer for some addresses only (waking the
// outbox worker, a claim, a lookup) would slow the next request and so tell a prober which
// addresses have accounts; the issue measured it. Here the work is counted: the store calls the
// request makes, the worker's bell, the rows the worker claims and the store calls it makes for
// each. The email itself (rendering and handing it to the provider) is the one difference left,
// and it is the point of the service.

interface Work {
  status: number
  /** Store calls made while the request was served. */
  request: string[]
  bells: number
  /** Rows the worker handled after it. */
  handled: number
  /** Store calls the worker made for them, the final bookkeeping named alike. */
  worker: string[]
}

async function rig(t: Test) {
  const h = await countingApp(t)
  const { calls } = h
  const { app } = h
  let bells = 0
  const wake = app.outbox.wake.bind(app.outbox)
  app.outbox.wake = () => {
    bells++
    wake()
  }
  // The worker's first run also prunes old rows (once an hour): done here, before any count.
  await app.outbox.runOnce()

  /** One request by email, and what it and the worker did. */
  const workOf = async (payload: Record<string, unknown>): Promise<Work> => {
    calls.length = 0
    bells = 0
    const res = await postLink(app, { deliver: 'email', ...payload })
    const request = calls.splice(0)
    const bellsRung = bells
    const handled = await app.outbox.runOnce()
    const worker = calls
      .splice(0)
      .map((call) => (/^mark(Sent|Suppressed)$/.test(call) ? 'mark' : call))
    return { status: res.statusCode, request, bells: bellsRung, handled, worker }
  }
  return { h, app, workOf }
}

t.test('known, unknown and disabled addresses: the same work after the answer', async (t) => {
  const { h, app, workOf } = await rig(t)
  await apiLink(app, { email: 'known@example.com' })
  const disabled = await apiLink(app, { email: 'disabled@example.com' })
  await adminAction(app, disabled.userId, 'disable')

  const known = await workOf({ email: 'known@example.com', create_user: false })
  t.same(
    known,
    {
      status: 202,
      request: ['findByEmail', 'phantomId', 'enqueue'],
      bells: 1,
      handled: 1,
      // One claim per kind of job (emails, webhooks: each kind has its own lane); the user and
      // the suppression list (inbox and mailbox) are looked up for every row alike.
      worker: [
        'claimDue',
        'claimDue',
        'findById',
        'activeSuppression',
        'activeSuppression',
        'mark',
      ],
    },
    'a known address: three store calls, the bell, one row claimed, looked up and sent',
  )
  t.equal(h.mail.length, 1, 'and one email')

  const unknown = await workOf({ email: 'nobody@example.com', create_user: false })
  t.same(unknown, known, 'an unknown address: the same')
  const off = await workOf({ email: 'disabled@example.com', create_user: false })
  t.same(off, known, 'a disabled user: the same')
  t.equal(h.mail.length, 1, 'neither got an email')
})

t.test('with create_user: a known, a new and a disabled address alike', async (t) => {
  const { h, app, workOf } = await rig(t)
  await apiLink(app, { email: 'known@example.com' })
  const disabled = await apiLink(app, { email: 'disabled@example.com' })
  await adminAction(app, disabled.userId, 'disable')

  const known = await workOf({ email: 'known@example.com' })
  t.same(known.request, ['findOrCreate', 'phantomId', 'enqueue'])
  t.same(await workOf({ email: 'new@example.com' }), known, 'a new address')
  t.same(await workOf({ email: 'disabled@example.com' }), known, 'a disabled user')
  t.equal(h.mail.length, 2, 'the known and the new address got their email')
})

t.test('by user_id: an active and a disabled user alike', async (t) => {
  const { app, workOf } = await rig(t)
  const active = await apiLink(app, { email: 'active@example.com' })
  const disabled = await apiLink(app, { email: 'disabled@example.com' })
  await adminAction(app, disabled.userId, 'disable')

  const on = await workOf({ user_id: active.userId })
  t.same(on.request, ['findById', 'enqueue'])
  t.same(on.bells, 1)
  t.same(await workOf({ user_id: disabled.userId }), on, 'a disabled user')
})
