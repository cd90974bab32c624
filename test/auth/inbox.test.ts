import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { normaliseEmail } from '../../src/auth/email.js'
import { inboxOf } from '../../src/auth/inbox.js'
import { recipientKey } from '../../src/auth/pseudonym.js'

// The inbox an address's email budget is counted by (DESIGN security 15): provider-aware for
// Gmail, lower-cased and without a +tag everywhere.

t.test('the issue’s spellings of one Gmail inbox are one inbox', async (t) => {
  const spellings = [
    'j.doe@gmail.com',
    'jd.oe@gmail.com',
    'j.d.o.e@gmail.com',
    'jdoe@gmail.com',
    'J.Doe@Gmail.com',
    'jdoe+x@googlemail.com',
    'j.doe+news+more@googlemail.com',
  ]
  for (const email of spellings) t.equal(inboxOf(email), 'jdoe@gmail.com', email)
})

t.test('elsewhere dots count, and +tags and case do not', async (t) => {
  t.equal(inboxOf('Ada+news@Example.com'), 'ada@example.com')
  t.equal(inboxOf('a.da@example.com'), 'a.da@example.com', 'a dot is part of the name')
  t.not(inboxOf('a.da@example.com'), inboxOf('ada@example.com'))
  t.equal(inboxOf('+ada@example.com'), '+ada@example.com', 'a + first is an address of its own')
  t.equal(inboxOf('j.doe@gmail.co'), 'j.doe@gmail.co', 'only gmail.com and googlemail.com')
  t.equal(inboxOf('j.doe@mail.gmail.com'), 'j.doe@mail.gmail.com', 'not a subdomain')
  t.equal(inboxOf('+j.doe@gmail.com'), '+jdoe@gmail.com')
})

const letter = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789')
/** A Gmail user name: letters and digits (Gmail allows no others besides the ignored dots). */
const gmailName = fc.string({ unit: letter, minLength: 1, maxLength: 30 })
/** Any spelling of `name` that Gmail delivers to it: dots anywhere inside, any case. */
const gmailSpelling = (name: string) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }),
      fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }),
    )
    .map(([dots, upper]) =>
      [...name]
        .map(
          (c, i) => `${upper[i] ? c.toUpperCase() : c}${dots[i] && i < name.length - 1 ? '.' : ''}`,
        )
        .join(''),
    )
const tag = fc.option(
  fc.string({ unit: fc.constantFrom('a', 'z', '1', '.', '-', '+'), maxLength: 10 }),
)
const gmailDomain = fc.constantFrom('gmail.com', 'googlemail.com', 'GMail.com', 'GoogleMail.COM')

t.test('property: every Gmail spelling of a name is the one inbox name@gmail.com', async (t) => {
  fc.assert(
    fc.property(
      gmailName.chain((name) => fc.tuple(fc.constant(name), gmailSpelling(name))),
      tag,
      gmailDomain,
      ([name, spelling], plus, domain) => {
        const email = `${spelling}${plus === null ? '' : `+${plus}`}@${domain}`
        return inboxOf(email) === `${name}@gmail.com`
      },
    ),
  )
  t.pass('one inbox')
})

t.test('property: two Gmail names are two inboxes, whatever their spelling', async (t) => {
  fc.assert(
    fc.property(
      gmailName.chain((a) => fc.tuple(fc.constant(a), gmailSpelling(a))),
      gmailName.chain((b) => fc.tuple(fc.constant(b), gmailSpelling(b))),
      gmailDomain,
      gmailDomain,
      ([a, spellA], [b, spellB], da, db) =>
        (inboxOf(`${spellA}@${da}`) === inboxOf(`${spellB}@${db}`)) === (a === b),
    ),
  )
  t.pass('distinct')
})

/** Addresses fast-check considers valid, that normaliseEmail accepts as they are. */
const address = fc.emailAddress().filter((e) => {
  try {
    return normaliseEmail(e) === e
  } catch {
    return false
  }
})
const split = (email: string) => {
  const at = email.lastIndexOf('@')
  return { local: email.slice(0, at), domain: email.slice(at + 1) }
}
const isGmail = (domain: string) => ['gmail.com', 'googlemail.com'].includes(domain.toLowerCase())

t.test('property: elsewhere, a +tag and the case are dropped, and dots are kept', async (t) => {
  fc.assert(
    fc.property(address, tag, (email, plus) => {
      const { local, domain } = split(email)
      fc.pre(!isGmail(domain) && !local.includes('+'))
      const tagged = plus === null ? email : `${local}+${plus}@${domain}`
      return (
        inboxOf(tagged) === email.toLowerCase() &&
        inboxOf(email.toUpperCase()) === email.toLowerCase()
      )
    }),
  )
  t.pass('dropped')
})

t.test('property: elsewhere, a dot added to the name is another inbox', async (t) => {
  fc.assert(
    fc.property(address, fc.nat(), (email, at) => {
      const { local, domain } = split(email)
      fc.pre(!isGmail(domain) && !local.includes('+') && local.length > 1)
      const i = 1 + (at % (local.length - 1))
      if (local[i] === '.' || local[i - 1] === '.') return true
      return inboxOf(`${local.slice(0, i)}.${local.slice(i)}@${domain}`) !== inboxOf(email)
    }),
  )
  t.pass('kept')
})

t.test('property: inboxOf is idempotent and keeps the domain (but for Gmail)', async (t) => {
  fc.assert(
    fc.property(fc.oneof(address, fc.string()), (email) => {
      const inbox = inboxOf(email)
      const at = email.lastIndexOf('@')
      const domain = at === -1 ? undefined : email.slice(at + 1).toLowerCase()
      return (
        inboxOf(inbox) === inbox &&
        (domain === undefined || split(inbox).domain === (isGmail(domain) ? 'gmail.com' : domain))
      )
    }),
  )
  t.pass('idempotent')
})

t.test('property: the budget key is shared exactly when the inbox is', async (t) => {
  const key = randomBytes(32)
  const spelt = fc.oneof(
    address,
    gmailName.chain((name) =>
      fc
        .tuple(gmailSpelling(name), tag, gmailDomain)
        .map(
          ([spelling, plus, domain]) => `${spelling}${plus === null ? '' : `+${plus}`}@${domain}`,
        ),
    ),
  )
  fc.assert(
    fc.property(spelt, spelt, (a, b) => {
      const sameKey = recipientKey(key, a) === recipientKey(key, b)
      return sameKey === (inboxOf(a) === inboxOf(b))
    }),
  )
  t.pass('one counter per inbox')
})
