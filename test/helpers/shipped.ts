import { type Page, type PageBase, pageRenderer } from '../../src/http/pages/render.js'
import { CATALOGUES, type Translator, translator } from '../../src/mail/locales/index.js'
import type { MailMessage } from '../../src/mail/mailer.js'
import { type LinkMessageInput, linkMessages } from '../../src/mail/templates/link.js'

// The shipped pages and email, built once for the tests that look at them directly; the service
// builds its own from the operator's look.

const ENGLISH = translator('en', CATALOGUES.en)
const PAGES = pageRenderer()
const EMAIL = linkMessages()

/** One complete HTML document for `page`, with the shipped templates; every value is escaped. */
export const renderPage = (page: Page & PageBase): string => PAGES.render(page)

/** The shipped stylesheet and its strong ETag. */
export const stylesheet = () => PAGES.stylesheet as { body: string; etag: string }

/** The sign-in email with the shipped templates, in the language of `words` (English unless given). */
export const linkMessage = (input: LinkMessageInput, words: Translator = ENGLISH): MailMessage =>
  EMAIL.render(input, words)

/** "15 minutes", "1 hour": a length of time in English, as the email says it. */
export const describeDuration = (seconds: number): string => ENGLISH.duration(seconds)
