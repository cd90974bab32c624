/** @deprecated The page helpers live in test/helpers/pages.ts. */
export * from '../helpers/pages.js'
