import { domainToASCII } from 'node:url'
import { InvalidRequest } from '../errors.js'

/** The longest address, in UTF-8 bytes (RFC 5321's path limit, less the angle brackets). */
export const MAX_EMAIL_LENGTH = 254
/** The longest local part, in UTF-8 bytes (RFC 5321, kept by RFC 6531 for UTF-8 addresses). */
const MAX_LOCAL_LENGTH = 64
/** Longer input is refused before any work is done on it; trimming may not bring it back. */
const MAX_INPUT_LENGTH = 1024

const LOCAL_PART = /^[^\s"(),:;<>@[\\\]]+$/u
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/

/**
 * Characters no address may hold: whitespace and line breaks (an address ends up in mail
 * headers), controls (Cc), format characters (Cf: zero-width spaces and joiners, bidi overrides
 * such as U+202E, the soft hyphen, the word joiner), private-use (Co), unassigned (Cn) and lone
 * surrogates (Cs), and whatever else Unicode says is drawn as nothing (Hangul fillers, variation
 * selectors). Each would let two addresses that look the same be two accounts and two email
 * budgets, or make an address in the admin listings read as another.
 */
const FORBIDDEN = /[\s\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}]/u

const utf8Length = (value: string) => Buffer.byteLength(value, 'utf8')

/**
 * Normalises an address typed by a person: NFC-normalised first (so a precomposed `ö` and `o`
 * followed by a combining diaeresis are one address), trimmed, domain lower-cased (and
 * IDNA-encoded), the local part kept as given (uniqueness is case-insensitive in the store).
 * Characters that are invisible, reorder text or break lines are refused, not removed: a repaired
 * address would be one the person did not type.
 */
export function normaliseEmail(input: string): string {
  if (input.length > MAX_INPUT_LENGTH) throw new InvalidRequest('The email address is too long.')
  const value = input.normalize('NFC').trim()
  if (value.length === 0 || utf8Length(value) > MAX_EMAIL_LENGTH) {
    throw new InvalidRequest('The email address is empty or too long.')
  }
  // Checked before IDNA conversion, which would silently drop CR, LF, tabs and zero-width
  // characters from the domain.
  if (FORBIDDEN.test(value)) throw new InvalidRequest('The email address is not valid.')
  const at = value.lastIndexOf('@')
  const local = value.slice(0, at)
  const domain = at > 0 ? domainToASCII(value.slice(at + 1).toLowerCase()) : ''
  if (
    at <= 0 ||
    !LOCAL_PART.test(local) ||
    utf8Length(local) > MAX_LOCAL_LENGTH ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..') ||
    !DOMAIN.test(domain)
  ) {
    throw new InvalidRequest('The email address is not valid.')
  }
  const email = `${local}@${domain}`
  if (utf8Length(email) > MAX_EMAIL_LENGTH) {
    throw new InvalidRequest('The email address is too long.')
  }
  return email
}
