import Type from 'typebox'
import { row } from './setting.js'

/** A CSS colour in hex, as both a stylesheet and every mail client read it. */
const HexColour = Type.String({ pattern: '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$' })

/**
 * How the pages and emails look and what they say, beyond the shipped defaults. The files are
 * read, and every template rendered once, when latchkey starts (mail/look.ts): a mistake refuses
 * to start, naming the file and line, rather than failing the first person it meets.
 */
export const LOOK_SETTINGS = {
  TEMPLATES_DIR: row({
    path: 'look/templatesDir',
    schema: Type.String({ minLength: 1 }),
    optional: true,
    expected: { is: 'a directory', fix: 'set the path of a directory of templates and strings' },
    doc: 'your own page and email templates (same file names, `confirm.eta`, `link.html.eta` …) and strings (`strings/<locale>.json`)',
  }),
  BRAND_COLOR: row({
    path: 'look/brandColor',
    schema: HexColour,
    optional: true,
    expected: { is: 'a colour', fix: 'set a hex colour like #0f766e or #c2410c' },
    shown: '`#1d4ed8`',
    doc: 'buttons, links and the mark on the pages and in emails',
  }),
  LOGO_FILE: row({
    path: 'look/logoFile',
    schema: Type.String({ minLength: 1 }),
    optional: true,
    expected: { is: 'a file', fix: 'set the path of a PNG or SVG file' },
    doc: 'a PNG or SVG logo, read at start and served at `/assets/logo` for the pages and emails',
  }),
}
