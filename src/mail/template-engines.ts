import type { Eta } from 'eta'
import { ConfigError } from '../errors.js'
import type { Look } from './look.js'
import { templateProblem } from './template-check.js'

/** A renderer's templates and how it builds, fills and tries its engines. */
export interface TemplateSet<Engines> {
  /** Every template's shipped source, by name (`confirm`, `link.html`); TEMPLATES_DIR may replace any. */
  shipped: ReadonlyMap<string, string>
  /** New, empty engines; debug ones name the line of an expression that throws. */
  engines(debug: boolean): Engines
  /** Which of the engines the template `name` is loaded into. */
  engineOf(engines: Engines, name: string): Eta
  /** Renders every sample of the template `name` in every language; throws what it throws. */
  renderSamples(engines: Engines, name: string): void
}

/**
 * The engines for a look, every template loaded as `@name`: the operator's where TEMPLATES_DIR
 * has one, else the shipped one. Each replaced template is tried first, by debug engines, with
 * every sample: all that do not parse or render refuse to start together, each with its file and
 * line (a ConfigError). The engines returned are not debug ones.
 */
export function templateEngines<Engines>(look: Look, set: TemplateSet<Engines>): Engines {
  if ([...set.shipped.keys()].some((name) => look.templates.has(name))) {
    const failed = new Map<string, string>()
    const engines = loaded(look, set, true, failed)
    const problems = [...failed.values()]
    for (const name of set.shipped.keys()) {
      const override = look.templates.get(name)
      if (!override || failed.has(name)) continue
      try {
        set.renderSamples(engines, name)
      } catch (error) {
        problems.push(templateProblem(override.file, override.source, error))
      }
    }
    if (problems.length > 0) throw new ConfigError(problems)
  }
  return loaded(look, set, false)
}

/** Compiling is loading: a template that does not parse fails here, and is named in `problems`. */
function loaded<Engines>(
  look: Look,
  set: TemplateSet<Engines>,
  debug: boolean,
  problems?: Map<string, string>,
): Engines {
  const engines = set.engines(debug)
  for (const [name, shipped] of set.shipped) {
    const override = look.templates.get(name)
    try {
      set.engineOf(engines, name).loadTemplate(`@${name}`, override?.source ?? shipped)
    } catch (error) {
      if (!override || !problems) throw error
      problems.set(name, templateProblem(override.file, override.source, error))
    }
  }
  return engines
}
