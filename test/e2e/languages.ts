import type { Browser } from 'playwright-core'
import type { Test } from 'tap'
import { CATALOGUES } from '../../src/mail/locales/index.js'
import { type Latchkey, newTab, type Tab } from './helpers.js'

/**
 * The confirm page in each shipped language, as a browser set to that language sees it: reached
 * by a link from the API, the page chosen by the browser's own Accept-Language. `visit` is called
 * once the page shows its heading in that language (the e2e run checks; `npm run screenshots`
 * also takes the picture, `confirm-<lang>.png`).
 */
export const LANGUAGES = [
  { lang: 'en', browser: 'en-US' },
  { lang: 'de', browser: 'de-DE' },
  { lang: 'fr', browser: 'fr-FR' },
  { lang: 'es', browser: 'es-ES' },
] as const

export type LanguageVisit = (t: Test, tab: Tab, name: string) => Promise<void>

export async function languageTour(
  t: Test,
  browser: Browser,
  latchkey: Latchkey,
  visit: LanguageVisit,
): Promise<void> {
  for (const { lang, browser: locale } of LANGUAGES) {
    await t.test(`the confirm page in ${lang}`, async (t) => {
      const tab = await newTab(browser, { locale })
      t.teardown(() => tab.context.close())
      const { link } = await latchkey.apiLink(`${lang}@example.com`)
      await tab.page.goto(link)
      const heading = CATALOGUES[lang]['common.signInTo'].replace('{app}', 'latchkey')
      await tab.page.getByRole('heading', { level: 1, name: heading }).waitFor()
      t.equal(await tab.page.getAttribute('html', 'lang'), lang, `<html lang="${lang}">`)
      const button = tab.page.getByRole('button', { name: CATALOGUES[lang]['confirm.submit'] })
      t.equal(await button.count(), 1, 'the button in that language')
      await visit(t, tab, `confirm-${lang}`)
      t.same(tab.consoleErrors, [], 'no console errors')
    })
  }
}
