import t, { type Test } from 'tap'
import {
  confirmPosts,
  launchChromium,
  press,
  requestLink,
  SESSION_COOKIE,
  startLatchkey,
  type Tab,
  tabFor,
} from './helpers.js'

// The sign-in code in a real browser (DESIGN "HTTP API", requirement 18): the person asks on
// their laptop (browser A) and reads the email on their phone (browser B). Opening the link on B
// asks for an explicit confirmation there; typing the code on A signs A in; B's confirmation
// then finds the link spent.

const browser = await launchChromium()
t.teardown(() => browser.close())

const tab = (t: Test) => tabFor(t, browser)

const heading = (tab: Tab, name: string | RegExp) => tab.page.getByRole('heading', { name })

const CODE = /enter this code[^:]*: ([0-9A-Z]{4}-[0-9A-Z]{4})/

t.test(
  'asked on A, link opened on B, code typed on A: A is signed in, B is too late',
  async (t) => {
    const latchkey = await startLatchkey(t, { HANDOFF: 'cookie' })
    const laptop = await tab(t)
    const phone = await tab(t)
    const email = 'two-devices@example.com'

    const link = await requestLink(laptop, latchkey, email)
    const sent = latchkey.fake.emails.find((e) => e.to.includes(email))
    const code = CODE.exec(sent?.text ?? '')?.[1]
    t.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/, 'the email has a code beside the link')
    t.ok(sent?.html?.includes(code as string), 'in the HTML part too')

    // The phone opens the link: it did not ask, so it must confirm explicitly.
    await phone.page.goto(link)
    await heading(phone, 'Sign in to latchkey').waitFor()
    await press(phone, 'Continue')
    await heading(phone, 'Sign in on this device?').waitFor()
    t.notOk(await phone.cookie(SESSION_COOKIE), 'the phone is not signed in')

    // The person types the code on the laptop instead (lower case, without the hyphen).
    await laptop.page
      .getByLabel('Sign-in code')
      .fill((code as string).replace('-', '').toLowerCase())
    const answer = await press(laptop, 'Sign in with code')
    t.equal(answer.status(), 200)
    await heading(laptop, 'You’re signed in').waitFor()
    const session = await laptop.cookie(SESSION_COOKIE)
    t.ok(session, 'the laptop has a session cookie')
    const introspected = await latchkey.service('POST', '/v1/sessions/introspect', {
      jwt: session?.value,
    })
    t.match(introspected.json(), { active: true, client_id: 'hosted' })

    // The phone's explicit confirmation comes too late: the code spent the link.
    await press(phone, 'Yes, sign in here')
    await heading(phone, 'This link has already been used').waitFor()
    t.notOk(await phone.cookie(SESSION_COOKIE), 'the phone is still not signed in')
    t.equal(confirmPosts(phone, latchkey), 2, 'the phone pressed both buttons')
    t.same(laptop.consoleErrors, [], 'no console errors (a CSP violation would be one)')
    t.same(phone.consoleErrors, [])
    t.notOk(latchkey.logs.join('').includes(code as string), 'no log line holds the code')
  },
)
