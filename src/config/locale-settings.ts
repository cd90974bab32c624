import Type from 'typebox'
import * as parse from './parsers.js'
import { row } from './setting.js'

/**
 * The languages latchkey ships a catalogue for (mail/locales/). Named here, in the leaf every
 * layer may import, so that a setting can be checked against them; mail/locales/index.ts holds
 * a catalogue for exactly these (a type error otherwise).
 */
export const SHIPPED_LOCALES = ['en', 'de', 'fr', 'es'] as const
export type Locale = (typeof SHIPPED_LOCALES)[number]

const LocaleSchema = Type.Union(SHIPPED_LOCALES.map((locale) => Type.Literal(locale)))
const shipped = (item: string): boolean => (SHIPPED_LOCALES as readonly string[]).includes(item)
const known = SHIPPED_LOCALES.join(', ')

export const LOCALE_SETTINGS = {
  LOCALES: row({
    path: 'locales',
    schema: Type.Array(LocaleSchema, { minItems: 1 }),
    parse: (value, report) => parse.list(shipped)(value.toLowerCase(), report),
    default: SHIPPED_LOCALES.join(','),
    expected: { is: 'a language latchkey ships', fix: `list some of ${known}, comma-separated` },
    shown: `all shipped: \`${SHIPPED_LOCALES.join(',')}\``,
    doc: 'languages of the pages and emails; a browser or request asking for another gets `DEFAULT_LOCALE`',
  }),
  DEFAULT_LOCALE: row({
    path: 'defaultLocale',
    schema: LocaleSchema,
    parse: (value) => value.toLowerCase(),
    default: 'en',
    expected: { is: 'a language latchkey ships', fix: `set one of ${known}` },
    doc: 'the language when nothing better matches; must be one of `LOCALES`',
  }),
}
