import { randomBytes } from 'node:crypto'
import type { MessageKey, Translator, Vars } from './catalogue.js'

/** An element around a value: its tag, its attributes and its text, all escaped by rich(). */
export type Wrap = readonly [
  tag: string,
  attributes: Readonly<Record<string, string>>,
  text: string,
]

// Stand-ins for the wrapped values while the message is filled and escaped: unguessable, so no
// value (an app name, an address) can spell one and be replaced by markup.
const NONCE = randomBytes(9).toString('base64url')

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
}

/**
 * A message as HTML with some values inside an element (`<strong>` around an address, `<a>`
 * around "Let us know"): the words stay the catalogue's, in whatever order the language puts
 * them, and the markup stays the template's. Everything is escaped here (the message, the values,
 * the attribute values and the element's text), so the template prints the result raw.
 */
export function rich(
  translator: Translator,
  key: MessageKey,
  vars: Vars,
  wraps: Readonly<Record<string, Wrap>>,
): string {
  const marker = (name: string) => `\u0000${NONCE}${name}\u0000`
  const filled = translator.t(key, {
    ...vars,
    ...Object.fromEntries(Object.keys(wraps).map((name) => [name, marker(name)])),
  })
  let html = escapeHtml(filled)
  for (const [name, [tag, attributes, text]] of Object.entries(wraps)) {
    if (!/^[a-z][a-z0-9]*$/.test(tag)) throw new TypeError(`rich(): ${tag} is not a tag name`)
    const attrs = Object.entries(attributes)
      .map(([attr, value]) => ` ${attr}="${escapeHtml(value)}"`)
      .join('')
    html = html.split(marker(name)).join(`<${tag}${attrs}>${escapeHtml(text)}</${tag}>`)
  }
  return html
}
