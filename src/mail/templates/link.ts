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
import type { MailMessage } from '../mailer.js'

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
}

/** The words when none are given: the shipped English. */
const ENGLISH = translator('en', CATALOGUES.en)

/**
 * Both engines escape every `<%= %>`; the templates never use raw output for data. The HTML
 * engine keeps Eta's XML escaping. Plain text has no markup to escape, and HTML entities would
 * corrupt a link (`&` → `&amp;`), so its escape is `oneLine`: no value can add a line, which
 * keeps the link alone on its line and stops an app name from forging the lines around it.
 */
const html = new Eta({ autoEscape: true, cache: true })
// autoTrim off: in plain text every line break in the template is content.
const text = new Eta({ autoEscape: true, cache: true, escapeFunction: oneLine, autoTrim: false })

// Compiled once, when this module loads: rendering a message reads no file, and a template
// missing from the build fails at start-up rather than at the first email.
const HERE = new URL('.', import.meta.url)
const load = (engine: Eta, name: string) =>
  engine.loadTemplate(`@${name}`, readFileSync(new URL(`${name}.eta`, HERE), 'utf8'))
load(html, 'layout.html')
load(html, 'link.html')
load(text, 'link.txt')

/**
 * The sign-in email in the language of `words` (the person who asked: see auth/link-email.ts): a
 * plain-text and an HTML part, every interpolated value escaped, and its language for the
 * Content-Language header.
 */
export function linkMessage(input: LinkMessageInput, words: Translator = ENGLISH): MailMessage {
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
  }
  return {
    to,
    // A header: whatever the transport does with line breaks, the subject has none.
    subject: oneLine(words.t('email.subject', { app: appName })),
    text: text.render('@link.txt', data),
    html: html.render('@link.html', data),
    lang: words.locale,
  }
}

/** "15 minutes", "1 hour": a length of time in English, as the email says it. */
export function describeDuration(seconds: number): string {
  return ENGLISH.duration(seconds)
}

/** The value as one line: every run of control or line-separator characters becomes a space. */
function oneLine(value: unknown): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
}
