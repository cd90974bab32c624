import type { TSchema } from 'typebox'
import type { Expected } from './messages.js'

/** What a parser or a refinement may say about the value of the setting it reads. */
export interface Report {
  /** Adds `NAME: message`, the message saying what is wrong and then, after `;`, the fix. */
  problem(message: string): void
  /** Adds `NAME: "value" is not …; fix` in the setting's own words. */
  refuse(value: string): void
}

/** The configuration as it is built: top-level fields only, values not yet checked. */
export type Building = Readonly<Record<string, unknown>>

/**
 * One setting, all in one place: where its value goes, how it is read, what it defaults to, what
 * it must be (the schema, and the words for when it is not), and the line that documents it.
 */
export interface Setting<S extends TSchema = TSchema> {
  /** Where the value sits in Config; `mail/from` for a nested field. */
  readonly path: string
  /** What the value must be once parsed; the one source of the Config type. */
  readonly schema: S
  /** Whether Config may lack the field (an unset setting with no default). */
  readonly optional?: boolean
  /**
   * Turns the string into the value the schema checks. What it cannot read it reports, and
   * returns something the schema accepts or rejects without saying it again. Without one, the
   * string is the value.
   */
  readonly parse?: (raw: string, report: Report) => unknown
  /** The string used when the variable is unset, parsed like a set one. */
  readonly default?: string
  /**
   * When unset, the value follows other settings (PUBLIC_URL follows PORT). Such a value is not
   * checked: whatever is wrong with it is wrong with the settings it follows, already named.
   */
  readonly derive?: (config: Building) => unknown
  /** The value when unset, with neither default nor derive: absent, or an empty list. */
  readonly unset?: unknown
  /** What the value must be, in words; lists of keys have `entries` instead. */
  readonly expected?: Expected
  /** For a list of keys: what is wrong with one entry, by the field that is wrong. */
  readonly entries?: Readonly<Record<string, string>>
  /** The value is, or may hold, a secret: no message ever repeats it. */
  readonly secret?: boolean
  /** Checks a value the schema accepted, for what a schema cannot say (weak or shared keys). */
  readonly refine?: (value: never, report: Report) => void
  /** The README's line: the default as shown there (when not the plain `default`), and meaning. */
  readonly shown?: string
  readonly doc: string
}

/** A row of the table, its schema's type kept for the Config type. */
export const row = <S extends TSchema>(setting: Setting<S>): Setting<S> => setting
