import { readFileSync } from 'node:fs'
import { Eta } from 'eta'
import {
  CATALOGUES,
  type MessageKey,
  rich,
  type Translator,
  translator,
  type Vars,
  type Wrap,
} from '../locales/index.js'
import { LOGO_PATH, type Look, SHIPPED_LOOK } from '../look.js'
import type { MailMessage } from '../mailer.js'
import { templateEngines } from '../template-engines.js'

export interface LinkMessageInput {
  to: string
  link: string
  appName: string
  ttlSeconds: number
  oneTime: boolean
  /** The sign-in code, grouped (`K7QM-4TZP`), for one-time login links only. */
  code?: string | undefined
  /** "Didn't ask for this?": the report page of this email (see auth/report.ts). */
  reportLink?: string | undefined
}

/** What the link templates see. */
interface LinkTemplateData {
  to: string
  link: string
  appName: string
  /** "15 minutes", "2 hours" …, in the email's language, as it reads after "in". */
  duration: string
  oneTime: boolean
  code: string | undefined
  reportLink: string | undefined
  /** The email's language (`<html lang>`), and its words. */
  lang: string
  t: Translator['t']
  rich: (key: MessageKey, vars: Vars, wraps: Record<string, Wrap>) => string
  /** BRAND_COLOR: the button and the link (inline styles: mail clients drop stylesheets). */
  brand: string
  /** The logo at PUBLIC_URL/assets/logo, served by latchkey itself, or none. */
  logoUrl: string | undefined
}

/** Every email template, by name (`link.html` is link.html.eta); TEMPLATES_DIR may replace any. */
export const MAIL_TEMPLATES = ['layout.html', 'link.html', 'link.txt'] as const

/** The engine of the HTML part (`link.html` and its layout) and the one of the text part. */
interface Engines {
  html: Eta
  text: Eta
}

/** Renders the sign-in email in the language of `words`. */
export interface LinkMessages {
  render(input: LinkMessageInput, words: Translator): MailMessage
}

/** The words when none are given: the shipped English. */
const ENGLISH = translator('en', CATALOGUES.en)

// Read once, when this module loads: rendering a message reads no file, and a template missing
// from the build fails at start-up rather than at the first email.
const HERE = new URL('.', import.meta.url)
const SOURCES = new Map(
  MAIL_TEMPLATES.map((name) => [name, readFileSync(new URL(`${name}.eta`, HERE), 'utf8')]),
)

/**
 * The sign-in email for a look: the shipped templates, any TEMPLATES_DIR replaced, compiled once;
 * an operator's template is rendered here once per language (code or not, report link or not),
 * and one that throws refuses to start with its file and line.
 *
 * Both engines escape every `<%= %>`; the templates never use raw output for data. The HTML
 * engine keeps Eta's XML escaping. Plain text has no markup to escape, and HTML entities would
 * corrupt a link (`&` → `&amp;`), so its escape is `oneLine`: no value can add a line, which
 * keeps the link alone on its line and stops an app name from forging the lines around it.
 */
export function linkMessages(
  look: Look = SHIPPED_LOOK,
  options: { publicUrl?: string | undefined; translators?: Translator[] } = {},
): LinkMessages {
  const logoUrl =
    look.logo && options.publicUrl !== undefined ? `${options.publicUrl}${LOGO_PATH}` : undefined
  const renderWith =
    ({ html, text }: Engines) =>
    (input: LinkMessageInput, words: Translator, only?: 'html' | 'text'): MailMessage => {
      const { to, link, appName, ttlSeconds, oneTime, code, reportLink } = input
      const data: LinkTemplateData = {
        to,
        link,
        appName,
        duration: words.duration(ttlSeconds),
        oneTime,
        code,
        reportLink,
        lang: words.locale,
        t: words.t,
        rich: (key, vars, wraps) => rich(words, key, vars, wraps),
        brand: look.brandColor,
        logoUrl,
      }
      return {
        to,
        // A header: whatever the transport does with line breaks, the subject has none.
        subject: oneLine(words.t('email.subject', { app: appName })),
        text: only === 'html' ? '' : text.render('@link.txt', data),
        html: only === 'text' ? '' : html.render('@link.html', data),
        lang: words.locale,
      }
    }
  const render = renderWith(
    templateEngines(look, {
      shipped: SOURCES,
      engines: (debug) => ({
        html: new Eta({ autoEscape: true, cache: true, debug }),
        // autoTrim off: in plain text every line break in the template is content.
        text: new Eta({
          autoEscape: true,
          cache: true,
          escapeFunction: oneLine,
          autoTrim: false,
          debug,
        }),
      }),
      engineOf: ({ html, text }, name) => (name === 'link.txt' ? text : html),
      renderSamples(engines, name) {
        const render = renderWith(engines)
        for (const words of options.translators ?? [ENGLISH]) {
          for (const sample of SAMPLES) render(sample, words, name === 'link.txt' ? 'text' : 'html')
        }
      },
    }),
  )
  return { render: (input, words) => render(input, words) }
}

/** The variants an override must render: with a code and a report link, and an access link. */
const SAMPLES: LinkMessageInput[] = [
  {
    to: 'ada@example.com',
    link: 'https://login.example/login/link?token=t',
    appName: 'Acme',
    ttlSeconds: 900,
    oneTime: true,
    code: 'K7QM-4TZP',
    reportLink: 'https://login.example/login/report?token=r',
  },
  {
    to: 'ada@example.com',
    link: 'https://login.example/login/link?token=t',
    appName: 'Acme',
    ttlSeconds: 86400,
    oneTime: false,
  },
]

/** The value as one line: every run of control or line-separator characters becomes a space. */
function oneLine(value: unknown): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
}
