import t from 'tap'
import { launchChromium, startLatchkey } from './helpers.js'
import { languageTour } from './languages.js'

// The confirm page in English, German, French and Spanish, each in a Chromium set to that
// language (its Accept-Language). `npm run screenshots` takes the same walk with a camera.

const browser = await launchChromium()
t.teardown(() => browser.close())
const latchkey = await startLatchkey(t, { HANDOFF: 'cookie' })

await languageTour(t, browser, latchkey, async () => {})
