/** The configuration: one table of settings (settings.ts), read and checked by loadConfig. */
export { GENERATED_IN_DEVELOPMENT } from './checks.js'
export { loadConfig, readOneSetting, resolveEnv } from './load.js'
export { type Locale, SHIPPED_LOCALES } from './locale-settings.js'
export { type Config, ConfigSchema } from './schema.js'
export { SETTINGS, type SettingName, TABLE } from './settings.js'
export type { ApiKeyConfig, Env, LinkSecretConfig, Rate, SessionKeyConfig } from './values.js'
