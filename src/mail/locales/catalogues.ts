import type { Locale } from '../../config/index.js'
import type { Messages } from './catalogue.js'
import { de } from './de.js'
import { en } from './en.js'
import { es } from './es.js'
import { fr } from './fr.js'

/** Every shipped catalogue, one per SHIPPED_LOCALES entry (a type error otherwise). */
export const CATALOGUES: Readonly<Record<Locale, Messages>> = { en, de, fr, es }
