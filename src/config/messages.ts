/** The fix every message about a missing or unusable key ends with. */
export const GENERATE = 'generate one with `latchkey keys`'

/**
 * A value as a message shows it: quoted, shortened, and with every character outside printable
 * ASCII escaped, so that a stray control character cannot rewrite the terminal it is shown in.
 */
export function quote(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 60)}…` : value
  return JSON.stringify(short).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** What a setting must be, in words, and how to put it right. */
export interface Expected {
  readonly is: string
  readonly fix: string
}

/**
 * `NAME: "value" is not …; fix`, the value left out when it may be a secret. The words are the
 * setting's own, never the validator's ("must match pattern …"): the person reading them set an
 * environment variable, not a JSON document.
 */
export function notA(
  name: string,
  expected: Expected | undefined,
  value: string | undefined,
  secret = false,
): string {
  const words = expected ?? { is: 'valid', fix: 'see the configuration table' }
  const what = value === undefined || secret ? 'the value' : quote(value)
  return `${name}: ${what} is not ${words.is}; ${words.fix}`
}
