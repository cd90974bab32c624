import { domainToASCII } from 'node:url'
import { InvalidRequest } from '../errors.js'

export const MAX_EMAIL_LENGTH = 254

const LOCAL_PART = /^[^\s"(),:;<>@[\\\]\p{Cc}]{1,64}$/u
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/

/**
 * Normalises an address typed by a person: trimmed, domain lower-cased (and IDNA-encoded), the
 * local part kept as given (uniqueness is case-insensitive in the store). Control characters,
 * CR/LF above all, are refused: an address ends up in mail headers.
 */
export function normaliseEmail(input: string): string {
  const value = input.trim()
  if (value.length === 0 || value.length > MAX_EMAIL_LENGTH) {
    throw new InvalidRequest('The email address is empty or too long.')
  }
  // Checked before IDNA conversion, which would silently drop CR, LF and tabs from the domain.
  if (/[\s\p{Cc}]/u.test(value)) throw new InvalidRequest('The email address is not valid.')
  const at = value.lastIndexOf('@')
  const local = value.slice(0, at)
  const domain = at > 0 ? domainToASCII(value.slice(at + 1).toLowerCase()) : ''
  if (
    at <= 0 ||
    !LOCAL_PART.test(local) ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..') ||
    !DOMAIN.test(domain)
  ) {
    throw new InvalidRequest('The email address is not valid.')
  }
  const email = `${local}@${domain}`
  if (email.length > MAX_EMAIL_LENGTH) throw new InvalidRequest('The email address is too long.')
  return email
}
