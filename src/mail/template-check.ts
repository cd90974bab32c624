import { Eta } from 'eta'

/**
 * Where in an operator's template a mistake is, for the message that refuses to start. Eta
 * names the line of a tag it cannot parse and (in debug mode) of an expression that throws; a
 * JavaScript syntax error inside a tag comes without one, so the template is compiled a line at
 * a time: the first prefix that fails for another reason than being unfinished holds the mistake.
 */
export function templateProblem(file: string, source: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const line = /\bline (\d+)/.exec(message)?.[1] ?? syntaxErrorLine(source)
  const cause = causeOf(message)
  return `TEMPLATES_DIR: ${file}${line ? `, line ${line}` : ''}: ${cause}`
}

const UNFINISHED =
  /Unexpected end of input|Unterminated|unclosed|missing \) after|Invalid or unexpected token$/i

function syntaxErrorLine(source: string): string | undefined {
  const lines = source.split('\n')
  const eta = new Eta()
  for (let n = 1; n <= lines.length; n++) {
    try {
      eta.compile(lines.slice(0, n).join('\n'))
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (!UNFINISHED.test(causeOf(message)) && !/unclosed/i.test(message)) return String(n)
    }
  }
  return undefined
}

/**
 * The sentence of an Eta error that says what is wrong: after "Bad template syntax" (the compiled
 * code follows, not for a reader), after the quoted lines of a runtime error, or its first line.
 */
function causeOf(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  if (lines[0] === 'Bad template syntax') return lines[1] ?? 'bad template syntax'
  if (/^line \d+$/.test(lines[0] ?? '')) return lines.at(-1) ?? 'does not render'
  return lines[0] ?? 'does not render'
}
