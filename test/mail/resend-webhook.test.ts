import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import {
  parseResendEvent,
  type SvixHeaders,
  svixRejection,
  TOLERANCE_SECONDS,
} from '../../src/mail/resend-webhook.js'

// Resend's (Svix's) signature and payload, below the HTTP layer: the check agrees with the
// standardwebhooks library's own verify, judges time by the clock it is given, and neither it
// nor the parser throws on anything a client can send.

const SECRET = `whsec_${randomBytes(24).toString('base64')}`
const NOW = Date.UTC(2030, 0, 1)

function signed(body: string, at = NOW, id = 'msg_2mVdQ9Yq0h0xqzO3Gd2pfpT5xbp', secret = SECRET) {
  const seconds = Math.floor(at / 1000)
  return {
    id,
    timestamp: String(seconds),
    signature: new Webhook(secret).sign(id, new Date(seconds * 1000), body),
  }
}

t.test('agrees with the library: what it verifies passes, what it refuses fails', async (t) => {
  const body = '{"type":"email.delivered","data":{"email_id":"4ef9a417"}}'
  const now = Date.now()
  const headers = signed(body, now)
  const asStandard = {
    'webhook-id': headers.id,
    'webhook-timestamp': headers.timestamp,
    'webhook-signature': headers.signature,
  }
  t.doesNotThrow(() => new Webhook(SECRET).verify(body, asStandard), 'the library verifies it')
  t.equal(svixRejection(SECRET, headers, Buffer.from(body), now), undefined, 'so do we')
  const other = `whsec_${randomBytes(24).toString('base64')}`
  t.throws(() => new Webhook(other).verify(body, asStandard), 'another key: the library refuses')
  t.equal(svixRejection(other, headers, Buffer.from(body), now), 'bad signature', 'so do we')
})

t.test('the timestamp is judged by the clock given, 5 minutes either way', async (t) => {
  const body = Buffer.from('{}')
  const at = (offsetSeconds: number) =>
    svixRejection(SECRET, signed('{}'), body, NOW + offsetSeconds * 1000)
  t.equal(at(TOLERANCE_SECONDS), undefined, '5 minutes later: accepted')
  t.equal(at(-TOLERANCE_SECONDS), undefined, '5 minutes earlier: accepted')
  t.equal(at(TOLERANCE_SECONDS + 1), 'stale')
  t.equal(at(-TOLERANCE_SECONDS - 1), 'stale')
  t.equal(at(600), 'stale', '10 minutes old')
})

t.test('headers that cannot be a signature are refused before any HMAC', async (t) => {
  const body = Buffer.from('{}')
  const good = signed('{}')
  const cases: [Partial<SvixHeaders>, string][] = [
    [{ id: undefined }, 'unsigned'],
    [{ signature: '' }, 'unsigned'],
    [{ timestamp: '1e9' }, 'malformed timestamp'],
    [{ timestamp: `${good.timestamp}abc` }, 'malformed timestamp'],
    [{ id: 'x'.repeat(257) }, 'malformed id'],
    [{ id: 'msg 1' }, 'malformed id'],
    [{ signature: 'v2,abc' }, 'bad signature'],
    [{ signature: good.signature.toUpperCase() }, 'bad signature'],
  ]
  for (const [change, reason] of cases) {
    t.equal(
      svixRejection(SECRET, { ...good, ...change }, body, NOW),
      reason,
      JSON.stringify(change),
    )
  }
  // Several signatures (a rotating secret): one good one is enough.
  const rotating = `v1,${randomBytes(32).toString('base64')} ${good.signature}`
  t.equal(svixRejection(SECRET, { ...good, signature: rotating }, body, NOW), undefined)
})

t.test('reads the four events it acts on, and nothing more', async (t) => {
  const event = (value: unknown) => parseResendEvent(Buffer.from(JSON.stringify(value)))
  t.same(
    event({
      type: 'email.bounced',
      data: {
        email_id: 'e1',
        to: ['a@example.com'],
        bounce: { type: 'Permanent', subType: 'Suppressed', message: 'a@example.com unknown' },
      },
    }),
    { type: 'email.bounced', emailId: 'e1', bounceType: 'Permanent', bounceSubType: 'Suppressed' },
  )
  t.same(event({ type: 'email.delivered', data: { email_id: 'e2' } }), {
    type: 'email.delivered',
    emailId: 'e2',
    bounceType: undefined,
    bounceSubType: undefined,
  })
  t.same(event({ type: 'email.opened', data: {} }), { type: 'other', name: 'email.opened' })
  t.same(event({ type: '<script>', data: {} }), { type: 'other', name: 'unknown' })
  t.equal(event({ type: 'email.complained', data: { email_id: 7 } }), undefined, 'no id')
  t.equal(event({ type: 'email.complained' }), undefined, 'no data')
  t.equal(event(['email.complained']), undefined, 'not an object')
  t.equal(parseResendEvent(Buffer.from('{"type":')), undefined, 'not JSON')
  const long = event({
    type: 'email.bounced',
    data: { email_id: 'e3', bounce: { type: 'x'.repeat(65), subType: 'a\nb' } },
  })
  t.match(long, { bounceType: 'unreadable', bounceSubType: undefined }, 'no long or odd words')
  t.equal(
    event({ type: 'email.bounced', data: { email_id: 'e\u0000' } }),
    undefined,
    'an id no database would take',
  )
  t.equal(event({ type: 'email.bounced', data: { email_id: '' } }), undefined, 'an empty id')
})

t.test('never throws, whatever arrives', async () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.record({
        id: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
        timestamp: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        signature: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
      }),
      (bytes, headers) => {
        const body = Buffer.from(bytes)
        const reason = svixRejection(SECRET, headers, body, NOW)
        if (typeof reason !== 'string') throw new Error('accepted a random callback')
        parseResendEvent(body)
      },
    ),
  )
  fc.assert(
    fc.property(fc.json(), (json) => {
      parseResendEvent(Buffer.from(json))
    }),
  )
})
