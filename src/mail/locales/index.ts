/** The words of the pages and emails: one catalogue per language, and how a request picks one. */
export {
  type MessageKey,
  type Messages,
  type PluralForms,
  placeholders,
  type Translator,
  translator,
  type Vars,
} from './catalogue.js'
export { CATALOGUES } from './catalogues.js'
export { bestLocale, negotiate } from './negotiate.js'
export { escapeHtml, rich, type Wrap } from './rich.js'
export { buildTexts, type Texts } from './texts.js'
