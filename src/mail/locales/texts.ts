import type { Locale } from '../../config/index.js'
import { type Messages, type Translator, translator } from './catalogue.js'
import { CATALOGUES } from './catalogues.js'
import { bestLocale, negotiate } from './negotiate.js'

/** The languages on offer (LOCALES), their words, and how a request picks one. */
export interface Texts {
  readonly locales: readonly Locale[]
  readonly defaultLocale: Locale
  /** The language for a BCP 47 tag (`de-CH` → `de`): the best on offer, else the default. */
  pick(tag: string | undefined): Locale
  /** The language for an Accept-Language header (qualities honoured), else the default. */
  negotiate(acceptLanguage: string | undefined): Locale
  /** The words of a language on offer; any other gets the default's. */
  translator(locale: string | undefined): Translator
}

/** Built once, at start: one translator per language on offer. */
export function buildTexts(
  settings: { locales: readonly Locale[]; defaultLocale: Locale },
  catalogues: Readonly<Record<Locale, Messages>> = CATALOGUES,
): Texts {
  const { locales, defaultLocale } = settings
  const translators = new Map<string, Translator>(
    locales.map((locale) => [locale, translator(locale, catalogues[locale])]),
  )
  const pick = (tag: string | undefined): Locale =>
    (tag === undefined ? undefined : bestLocale(tag, locales)) ?? defaultLocale
  return {
    locales,
    defaultLocale,
    pick,
    negotiate: (header) => negotiate(header, locales, defaultLocale),
    translator: (locale) =>
      translators.get(pick(locale)) ?? (translators.get(defaultLocale) as Translator),
  }
}
