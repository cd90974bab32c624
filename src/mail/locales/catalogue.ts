import type { en } from './en.js'

/** One form per CLDR plural category the language uses; `other` always. */
export type PluralForms = Readonly<Partial<Record<Intl.LDMLPluralRule, string>> & { other: string }>

/** The keys of every catalogue: English's, the reference. */
export type MessageKey = keyof typeof en

/** The keys whose value is a plural (they need `count`). */
export type PluralKey = {
  [K in MessageKey]: (typeof en)[K] extends string ? never : K
}[MessageKey]

/**
 * A language's catalogue: exactly English's keys, a string where English has one and plural
 * forms where English has them. `satisfies Messages` makes a missing or extra key a type error.
 */
export type Messages = {
  readonly [K in MessageKey]: (typeof en)[K] extends string ? string : PluralForms
}

/** Values a message interpolates; numbers are written in the language's own way. */
export type Vars = Readonly<Record<string, string | number>>

/** What templates and pages call to get their words, in one language. */
export interface Translator {
  /** The BCP 47 tag of the language: `<html lang>`, Content-Language. */
  readonly locale: string
  /** The message, `{name}` replaced by `vars.name`; a plural picks its form by `vars.count`. */
  t(key: MessageKey, vars?: Vars): string
  /** A length of time as it reads after "in": "15 minutes", "1 hour", "2 days". */
  duration(seconds: number): string
  /** Rounded up to whole minutes, hours past an hour and a half: how long to wait. */
  wait(seconds: number): string
}

const PLACEHOLDER = /\{([A-Za-z]+)\}/g

/** The `{names}` a message (every form of a plural) interpolates, sorted. */
export function placeholders(value: string | PluralForms): string[] {
  const texts = typeof value === 'string' ? [value] : Object.values(value)
  const names = new Set<string>()
  for (const text of texts)
    for (const match of text.matchAll(PLACEHOLDER)) names.add(match[1] ?? '')
  return [...names].sort()
}

export function translator(locale: string, messages: Messages): Translator {
  const plurals = new Intl.PluralRules(locale)
  const numbers = new Intl.NumberFormat(locale)
  const fill = (text: string, vars: Vars | undefined) =>
    text.replace(PLACEHOLDER, (whole, name: string) => {
      const value = vars?.[name]
      if (value === undefined) return whole
      return typeof value === 'number' ? numbers.format(value) : value
    })
  const t = (key: MessageKey, vars?: Vars): string => {
    const value = messages[key] as string | PluralForms
    if (typeof value === 'string') return fill(value, vars)
    const count = vars?.count
    if (typeof count !== 'number') throw new TypeError(`${key} is a plural and needs a count`)
    return fill(value[plurals.select(count)] ?? value.other, vars)
  }
  const duration = (seconds: number): string => {
    if (seconds % 86400 === 0) return t('duration.days', { count: seconds / 86400 })
    if (seconds % 3600 === 0) return t('duration.hours', { count: seconds / 3600 })
    if (seconds % 60 === 0) return t('duration.minutes', { count: seconds / 60 })
    return t('duration.seconds', { count: seconds })
  }
  const wait = (seconds: number): string => {
    const minutes = Math.max(1, Math.ceil(seconds / 60))
    if (minutes > 90) return t('duration.hours', { count: Math.ceil(minutes / 60) })
    return t('duration.minutes', { count: minutes })
  }
  return { locale, t, duration, wait }
}
