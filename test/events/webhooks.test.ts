import fc from 'fast-check'
import t from 'tap'
import {
  type WebhookEvent,
  wantsEvent,
  webhookData,
  webhookJobs,
} from '../../src/events/webhooks.js'

const AT = Date.UTC(2030, 0, 1, 12, 0, 0, 250)
const EVENT: WebhookEvent = {
  id: '01900000-0000-7000-8000-0000000000e1',
  at: AT,
  type: 'session.ended',
  userId: '01900000-0000-7000-8000-0000000000a1',
  sessionId: '01900000-0000-7000-8000-0000000000b1',
  actor: 'key:billing',
  ip: '203.0.113.4',
  userAgent: 'Mozilla/5.0',
  detail: { reason: 'logout' },
}
const DEFAULT_EVENTS = ['user.*', 'session.ended', 'email.bounced', 'email.complained']

t.test('wantsEvent: exact types, prefix.* and *', async (t) => {
  const cases: [string[], string, boolean][] = [
    [DEFAULT_EVENTS, 'user.revoked', true],
    [DEFAULT_EVENTS, 'user.deleted', true],
    [DEFAULT_EVENTS, 'session.ended', true],
    [DEFAULT_EVENTS, 'session.created', false],
    [DEFAULT_EVENTS, 'email.bounced', true],
    [DEFAULT_EVENTS, 'email.sent', false],
    [DEFAULT_EVENTS, 'link.issued', false],
    [['user.*'], 'user', false],
    [['user.*'], 'users.created', false],
    [['user.*'], 'user.x.y', true],
    [['session.ended'], 'session.ended.x', false],
    [['*'], 'anything.at_all', true],
    [[], 'user.revoked', false],
  ]
  for (const [patterns, type, wanted] of cases) {
    t.equal(wantsEvent(patterns, type), wanted, `${patterns.join(',')} ∋ ${type}: ${wanted}`)
  }
})

t.test('property: prefix.* wants exactly the types under prefix.', async (t) => {
  const word = fc.stringMatching(/^[a-z][a-z_]{0,8}$/)
  fc.assert(
    fc.property(word, fc.array(word, { minLength: 1, maxLength: 3 }), (prefix, parts) => {
      const type = parts.join('.')
      return wantsEvent([`${prefix}.*`], type) === type.startsWith(`${prefix}.`)
    }),
  )
  t.pass()
})

t.test('one row per receiver, for a wanted type only; none with no receiver', async (t) => {
  const urls = ['https://a.example/hooks', 'https://b.example/in?token=receivers-own']
  const rows = webhookJobs(EVENT, { urls, events: DEFAULT_EVENTS })
  const payload = {
    event_id: EVENT.id,
    type: 'session.ended',
    timestamp: '2030-01-01T12:00:00.250Z',
    data: {
      user_id: EVENT.userId,
      session_id: EVENT.sessionId,
      actor: 'key:billing',
      ip: '203.0.113.4',
      user_agent: 'Mozilla/5.0',
      detail: { reason: 'logout' },
    },
  }
  t.same(rows, [
    {
      kind: 'webhook',
      userId: null,
      recipient: 'https://a.example/hooks',
      payload: { ...payload, url: urls[0] },
      now: AT,
    },
    {
      kind: 'webhook',
      userId: null,
      recipient: 'https://b.example/in',
      payload: { ...payload, url: urls[1] },
      now: AT,
    },
  ])
  t.same(webhookJobs({ ...EVENT, type: 'link.issued' }, { urls, events: DEFAULT_EVENTS }), [])
  t.same(webhookJobs(EVENT, { urls: [], events: ['*'] }), [])
})

t.test('data: snake_case, absent fields null, no id, time or type of its own', async (t) => {
  t.same(webhookData({ id: EVENT.id, at: AT, type: 'user.deleted', actor: 'cli' }), {
    user_id: null,
    session_id: null,
    actor: 'cli',
    ip: null,
    user_agent: null,
    detail: {},
  })
  t.same(
    webhookData({
      ...EVENT,
      userId: null,
      sessionId: null,
      ip: null,
      userAgent: null,
      detail: null,
    }),
    {
      user_id: null,
      session_id: null,
      actor: 'key:billing',
      ip: null,
      user_agent: null,
      detail: {},
    },
  )
})
