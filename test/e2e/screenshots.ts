import { existsSync, statSync } from 'node:fs'
import t from 'tap'
import { launchChromium, SCREENSHOTS, screenshot, startLatchkey } from './helpers.js'
import { LANGUAGES, languageTour } from './languages.js'
import { PAGES, reached, tour } from './tour.js'

// Every hosted page as a person sees it, in Chromium at 800×900, written to
// test-results/screenshots/<name>.png (ignored by git; the README shows them). Run by
// `npm run screenshots`, not by `npm test` (which walks the same pages, see sign-in.test.ts). Each
// picture is taken only once the page says what it should, so a screenshot never shows the wrong
// page.

const browser = await launchChromium()
t.teardown(() => browser.close())

const written: string[] = []

await tour(t, browser, async (t, tab, name, heading) => {
  await reached(tab, heading)
  const path = await screenshot(tab.page, name)
  t.ok(statSync(path).size > 0, `${name}.png: ${heading}`)
  written.push(name)
})

// The confirm page once per shipped language: confirm-en.png … confirm-es.png.
await t.test('the confirm page in every language', async (t) => {
  const latchkey = await startLatchkey(t, { HANDOFF: 'cookie' })
  await languageTour(t, browser, latchkey, async (t, tab, name) => {
    const path = await screenshot(tab.page, name)
    t.ok(statSync(path).size > 0, `${name}.png`)
    written.push(name)
  })
})

t.test('every screenshot is on disk', async (t) => {
  const names = [...PAGES, ...LANGUAGES.map(({ lang }) => `confirm-${lang}`)]
  t.same([...written].sort(), [...names].sort(), 'one picture per page, and per language')
  for (const name of names) t.ok(existsSync(`${SCREENSHOTS}${name}.png`), `${name}.png`)
})
