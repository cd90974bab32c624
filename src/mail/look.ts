import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { type Locale, SHIPPED_LOCALES } from '../config/index.js'
import { ConfigError } from '../errors.js'
import {
  CATALOGUES,
  type MessageKey,
  type Messages,
  type PluralForms,
  placeholders,
} from './locales/index.js'

/** The colour of buttons and links when BRAND_COLOR is unset. */
export const DEFAULT_BRAND_COLOR = '#1d4ed8'

/** Where latchkey serves the logo: pages link it, emails load it from PUBLIC_URL + this. */
export const LOGO_PATH = '/assets/logo'

/** A logo as read once at start: its bytes and type (the pages serve it with their ETag). */
export interface Logo {
  body: Buffer
  type: 'image/png' | 'image/svg+xml'
}

/** A template an operator put in TEMPLATES_DIR in place of a shipped one. */
export interface TemplateOverride {
  /** The file, for messages: `/etc/latchkey/templates/confirm.eta`. */
  file: string
  source: string
}

/**
 * How the pages and emails look and what they say: the shipped templates and catalogues with
 * the operator's overrides (TEMPLATES_DIR), BRAND_COLOR and LOGO_FILE. Built once, at start.
 */
export interface Look {
  /** By template name (`confirm`, `link.html`); each renderer takes its own and checks them. */
  readonly templates: ReadonlyMap<string, TemplateOverride>
  /** Every shipped catalogue, with the operator's strings merged over it. */
  readonly catalogues: Readonly<Record<Locale, Messages>>
  readonly brandColor: string
  readonly logo: Logo | undefined
}

export interface LookSettings {
  templatesDir?: string | undefined
  brandColor?: string | undefined
  logoFile?: string | undefined
}

/** The shipped look: no overrides, the default colour, no logo. */
export const SHIPPED_LOOK: Look = {
  templates: new Map(),
  catalogues: CATALOGUES,
  brandColor: DEFAULT_BRAND_COLOR,
  logo: undefined,
}

/** A logo larger than this is not a logo: it would slow every page and email. */
const MAX_LOGO_BYTES = 512 * 1024

/**
 * Reads TEMPLATES_DIR and LOGO_FILE. Every problem is named at once, with its file, as a
 * ConfigError: latchkey refuses to start rather than show a broken page. (The templates are
 * rendered once per language by their renderers, which add what fails there.)
 */
export function loadLook(settings: LookSettings): Look {
  const problems: string[] = []
  const templates = new Map<string, TemplateOverride>()
  let catalogues: Record<Locale, Messages> = { ...CATALOGUES }
  if (settings.templatesDir !== undefined) {
    const dir = settings.templatesDir
    let entries: string[] = []
    try {
      entries = readdirSync(dir)
    } catch (error) {
      problems.push(
        `TEMPLATES_DIR: ${dir} cannot be read (${reason(error)}); set a directory latchkey may read`,
      )
    }
    for (const entry of entries.sort()) {
      if (!entry.endsWith('.eta')) continue
      const file = join(dir, entry)
      try {
        templates.set(entry.slice(0, -'.eta'.length), { file, source: readFileSync(file, 'utf8') })
      } catch (error) {
        problems.push(`TEMPLATES_DIR: ${file} cannot be read (${reason(error)})`)
      }
    }
    if (entries.includes('strings')) {
      catalogues = mergeStrings(join(dir, 'strings'), problems)
    }
  }
  const logo = settings.logoFile === undefined ? undefined : readLogo(settings.logoFile, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    templates,
    catalogues,
    brandColor: settings.brandColor?.toLowerCase() ?? DEFAULT_BRAND_COLOR,
    logo,
  }
}

/** The template files no renderer claimed: refused, as a misspelt name would silently do nothing. */
export function unknownTemplates(look: Look, known: readonly string[]): string[] {
  return [...look.templates]
    .filter(([name]) => !known.includes(name))
    .map(
      ([, { file }]) =>
        `TEMPLATES_DIR: ${file} replaces no template; name it after one of ${known.map((n) => `${n}.eta`).join(', ')}`,
    )
}

/** `strings/<locale>.json`: partial catalogues, each checked against English, merged over ours. */
function mergeStrings(dir: string, problems: string[]): Record<Locale, Messages> {
  const merged: Record<Locale, Messages> = { ...CATALOGUES }
  let files: string[] = []
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.json'))
  } catch (error) {
    problems.push(`TEMPLATES_DIR: ${dir} cannot be read (${reason(error)})`)
  }
  for (const name of files.sort()) {
    const file = join(dir, name)
    const locale = name.slice(0, -'.json'.length)
    if (!(SHIPPED_LOCALES as readonly string[]).includes(locale)) {
      problems.push(
        `TEMPLATES_DIR: ${file} is for no language latchkey ships; name it after one of ${SHIPPED_LOCALES.join(', ')}`,
      )
      continue
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      problems.push(`TEMPLATES_DIR: ${file} is not JSON (${reason(error)})`)
      continue
    }
    const strings = checkStrings(file, locale as Locale, parsed, problems)
    if (strings)
      merged[locale as Locale] = { ...CATALOGUES[locale as Locale], ...strings } as Messages
  }
  return merged
}

/** The overrides of one file, when every one of them is a key we have with a value of its shape. */
function checkStrings(
  file: string,
  locale: Locale,
  parsed: unknown,
  problems: string[],
): Partial<Record<MessageKey, string | PluralForms>> | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`TEMPLATES_DIR: ${file} must be one JSON object of key: string`)
    return undefined
  }
  const before = problems.length
  const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories as string[]
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(CATALOGUES.en, key)) {
      problems.push(
        `TEMPLATES_DIR: ${file}: "${key}" is no string latchkey has; see src/mail/locales/en.ts for the keys`,
      )
      continue
    }
    const shipped = CATALOGUES.en[key as MessageKey]
    const allowed = placeholders(shipped)
    if (typeof shipped === 'string') {
      if (typeof value !== 'string') {
        problems.push(`TEMPLATES_DIR: ${file}: "${key}" must be a string`)
        continue
      }
    } else if (
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      typeof (value as Record<string, unknown>).other !== 'string' ||
      Object.entries(value).some(
        ([form, text]) => !categories.includes(form) || typeof text !== 'string',
      )
    ) {
      problems.push(
        `TEMPLATES_DIR: ${file}: "${key}" must be plural forms, strings for ${categories.join(', ')} ("other" at least)`,
      )
      continue
    }
    const stray = placeholders(value as string | PluralForms).filter(
      (name) => !allowed.includes(name),
    )
    if (stray.length > 0) {
      problems.push(
        `TEMPLATES_DIR: ${file}: "${key}" uses ${stray.map((n) => `{${n}}`).join(', ')}, which it is not given; it may use ${allowed.map((n) => `{${n}}`).join(', ') || 'none'}`,
      )
    }
  }
  return problems.length === before
    ? (parsed as Partial<Record<MessageKey, string | PluralForms>>)
    : undefined
}

/** The logo's bytes, when they are a PNG or an SVG of a sensible size. */
function readLogo(file: string, problems: string[]): Logo | undefined {
  let body: Buffer
  try {
    if (statSync(file).size > MAX_LOGO_BYTES) {
      problems.push(`LOGO_FILE: ${file} is larger than 512 KB; use a smaller PNG or SVG`)
      return undefined
    }
    body = readFileSync(file)
  } catch (error) {
    problems.push(
      `LOGO_FILE: ${file} cannot be read (${reason(error)}); set the path of a PNG or SVG file`,
    )
    return undefined
  }
  const type = logoType(body)
  if (type === undefined) {
    problems.push(`LOGO_FILE: ${file} is neither a PNG nor an SVG file; convert it to one`)
    return undefined
  }
  return { body, type }
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** By the bytes, not the name: a PNG's signature, or XML whose root element is `svg`. */
function logoType(body: Buffer): Logo['type'] | undefined {
  if (body.subarray(0, PNG.length).equals(PNG)) return 'image/png'
  const head = body
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
  // Past an XML declaration, comments and a doctype, the first element is <svg.
  const rest = head.replace(/^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*/i, '')
  return /^<svg[\s>]/.test(rest) ? 'image/svg+xml' : undefined
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)
}
