import { readFileSync } from 'node:fs'
import type { TSchema } from 'typebox'
import Value from 'typebox/value'
import { ConfigError } from '../errors.js'
import { CROSS_CHECKS, productionChecks } from './checks.js'
import { GENERATE, notA } from './messages.js'
import type { Config } from './schema.js'
import type { Report, Setting } from './setting.js'
import { SETTINGS, type SettingName, TABLE } from './settings.js'
import type { Env } from './values.js'

/**
 * Reads NAME, or the contents of the file NAME_FILE names (trailing newline removed), so secrets
 * can come from mounted files instead of the environment.
 */
export function resolveEnv(env: Env, problems: string[]): Env {
  const out: Record<string, string | undefined> = { ...env }
  for (const base of SETTINGS) {
    const name = `${base}_FILE`
    const path = env[name]
    if (path === undefined || path === '') continue
    if (env[base] !== undefined && env[base] !== '') {
      problems.push(`${base} and ${name} are both set; set only one`)
      continue
    }
    try {
      out[base] = readFileSync(path, 'utf8').replace(/\r?\n$/, '')
    } catch {
      problems.push(`${name}: cannot read the file it names; check the path and its permissions`)
    }
  }
  return out
}

/**
 * Builds and checks the configuration; throws one ConfigError naming every problem at once:
 * each setting's own (read, schema, refinement), then every rule across settings whose settings
 * are valid, then what production demands.
 */
export function loadConfig(rawEnv: Env): Config {
  const problems: string[] = []
  const env = resolveEnv(rawEnv, problems)
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === '' ? undefined : value
  }
  const production = get('NODE_ENV') === 'production'
  const config: Record<string, unknown> = {}
  const valid = new Set<SettingName>()
  const derived: SettingName[] = []
  for (const name of SETTINGS) {
    const setting: Setting = TABLE[name]
    const raw = get(name)
    if (raw === undefined && setting.default === undefined && setting.derive) {
      place(config, setting.path, undefined) // keeps the fields in table order
      derived.push(name)
      continue
    }
    const read = readSetting(name, setting, raw, production && raw === undefined)
    place(config, setting.path, read.value)
    if (read.valid) valid.add(name)
    problems.push(...read.problems)
  }
  // A default that follows other settings is taken once they are read, and not checked: what is
  // wrong with it is wrong with them.
  for (const name of derived) {
    place(config, TABLE[name].path, TABLE[name].derive?.(config))
    valid.add(name)
  }
  for (const { reads, check } of CROSS_CHECKS) {
    if (!reads.every((name) => valid.has(name))) continue
    const problem = check(config as Config)
    if (problem !== undefined) problems.push(problem)
  }
  if (production) problems.push(...productionChecks(env))
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return config as Config
}

/**
 * One setting read on its own, exactly as loadConfig reads it (default, parser, schema, its own
 * refinement; not the rules across settings): for commands that need a few settings and not a
 * whole configuration.
 */
export function readOneSetting(
  name: SettingName,
  raw: string | undefined,
): { value: unknown; problems: string[] } {
  const { value, problems } = readSetting(name, TABLE[name] as Setting, raw, false)
  return { value, problems }
}

/**
 * One setting: parsed, checked against its schema, then refined once the schema holds. It is
 * valid (for the rules across settings) when it read and matched its schema; `unset` says
 * whether production will name a missing secret itself.
 */
function readSetting(
  name: string,
  setting: Setting,
  raw: string | undefined,
  unset: boolean,
): { value: unknown; valid: boolean; problems: string[] } {
  const problems: string[] = []
  const report: Report = {
    problem: (message) => problems.push(`${name}: ${message}`),
    refuse: (value) => problems.push(notA(name, setting.expected, value, setting.secret)),
  }
  const text = raw ?? setting.default
  let value = setting.unset
  if (text !== undefined) value = setting.parse ? setting.parse(text, report) : text
  if (value === undefined && setting.optional) return { value, valid: true, problems }
  problems.push(...schemaProblems(name, setting, value, raw, unset))
  const valid = problems.length === 0
  if (valid) setting.refine?.(value as never, report)
  return { value, valid, problems }
}

/** Sets `mail/from` and the like, making the parent objects on the way. */
function place(config: Record<string, unknown>, path: string, value: unknown): void {
  const [top = '', field] = path.split('/')
  if (field === undefined) {
    config[top] = value
    return
  }
  const parent = (config[top] ?? {}) as Record<string, unknown>
  parent[field] = value
  config[top] = parent
}

/**
 * A value against its setting's schema, each setting on its own so that every bad one is named
 * (the validator stops after a few errors) and in its own words. `unset` says whether production
 * will name a missing secret itself.
 */
function schemaProblems(
  name: string,
  setting: Setting,
  value: unknown,
  raw: string | undefined,
  unset: boolean,
): string[] {
  if (Value.Check(setting.schema, value)) return []
  if (setting.entries === undefined) return [notA(name, setting.expected, raw, setting.secret)]
  const entries = value as unknown[]
  if (entries.length === 0) {
    // Production names an unset secret itself; say it once.
    return unset ? [] : [`${name}: missing; ${GENERATE}`]
  }
  const item = (
    setting.schema as TSchema & { items: TSchema & { properties: Record<string, TSchema> } }
  ).items
  const words = setting.entries
  const problems: string[] = []
  entries.forEach((entry, i) => {
    if (Value.Check(item, entry)) return
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${name}: entry ${i + 1}: ${words['']}`)
      return
    }
    for (const [field, fieldSchema] of Object.entries(item.properties)) {
      if (Value.Check(fieldSchema, (entry as Record<string, unknown>)[field])) continue
      problems.push(`${name}: entry ${i + 1}: ${words[field]}`)
    }
  })
  return problems
}
