/**
 * Load: one scenario at a time, a warm-up and then a timed run with the same settings, through
 * autocannon driven programmatically; what each run measured and what it found wrong.
 */
import autocannon from 'autocannon'
import { CONNECTIONS, PIPELINING, SECONDS, WARMUP_SECONDS } from './options.js'
import type { Scenario } from './scenario.js'

export interface Run {
  result: autocannon.Result
  /**
   * Latency of every expected response, ms, sorted, at full resolution (autocannon's histogram
   * keeps whole ms).
   */
  latencies: Float64Array
  /** The slowest response of the run, whatever its status, ms. */
  maxMs: number
}

export interface Outcome extends Run {
  scenario: Scenario
  /** CPU time (user + system) the server's process spent during the timed run, µs. */
  cpuMicros: number
  /** Requests of the timed run without the answer they should have had. */
  errors: number
  failures: string[]
}

/**
 * A scenario's median round by throughput (the lower middle one of an even count), with the
 * slowest response, the errors and the failures of all its rounds.
 */
export interface Measured extends Outcome {
  /** Every round's throughput, req/s, in the order run. */
  rounds: number[]
}

/**
 * Every scenario `rounds` times, round robin, so the slow drift of a shared machine falls on all
 * of them alike; for each, its median round.
 */
export async function measureRounds(
  scenarios: readonly Scenario[],
  rounds: number,
): Promise<Map<Scenario, Measured>> {
  const runs = new Map<Scenario, Outcome[]>(scenarios.map((s) => [s, []]))
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) runs.get(scenario)?.push(await measure(scenario))
  }
  return new Map(
    [...runs].map(([scenario, outcomes]) => {
      const sorted = [...outcomes].sort((a, b) => a.result.requests.mean - b.result.requests.mean)
      const median = sorted[Math.floor((sorted.length - 1) / 2)] as Outcome
      const measured: Measured = {
        ...median,
        rounds: outcomes.map((o) => o.result.requests.mean),
        maxMs: Math.max(...outcomes.map((o) => o.maxMs)),
        errors: outcomes.reduce((sum, o) => sum + o.errors, 0),
        failures: outcomes.flatMap((o, i) =>
          o.failures.map((f) => (rounds > 1 ? `round ${i + 1}: ${f}` : f)),
        ),
      }
      return [scenario, measured]
    }),
  )
}

/** Warms the scenario up, then times it; reads the server's CPU time around the timed run. */
async function measure(scenario: Scenario): Promise<Outcome> {
  await scenario.prepare?.()
  const warmup = await fire(scenario, WARMUP_SECONDS)
  const warmupFaults = scenario.takeFaults?.()
  await scenario.prepare?.()
  const cpuBefore = await scenario.server.cpuMicros()
  const run = await fire(scenario, SECONDS)
  const cpuMicros = (await scenario.server.cpuMicros()) - cpuBefore
  const faults = scenario.takeFaults?.()
  const failures = [
    ...[...problems(warmup.result, scenario), ...(warmupFaults?.lines ?? [])].map(
      (p) => `warm-up: ${p}`,
    ),
    ...problems(run.result, scenario),
    ...(faults?.lines ?? []),
  ]
  // An expected error status is not an error; any other status is one of the scenario's faults.
  const unexpected = scenario.expectStatus === undefined ? run.result.non2xx : 0
  const errors = unexpected + run.result.errors + (faults?.wrong ?? 0)
  return { scenario, ...run, cpuMicros, errors, failures }
}

function fire(scenario: Scenario, seconds: number): Promise<Run> {
  const latencies: number[] = []
  let maxMs = 0
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: scenario.server.url,
        connections: CONNECTIONS,
        pipelining: PIPELINING,
        duration: seconds,
        setupClient: (client) => {
          client.on('response', (status: number, _bytes: number, ms: number) => {
            if (ms > maxMs) maxMs = ms
            if (expected(status, scenario)) latencies.push(ms)
          })
        },
        requests: [
          {
            method: 'POST',
            path: scenario.path,
            headers: scenario.headers,
            setupRequest: scenario.setupRequest,
            onResponse: scenario.onResponse,
          },
        ],
      },
      (error: unknown, result) => {
        if (error) reject(error)
        else resolve({ result, latencies: Float64Array.from(latencies).sort(), maxMs })
      },
    )
  })
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

/** Whether a status is the one the scenario expects: 2xx unless it says otherwise. */
function expected(status: number, scenario: Scenario): boolean {
  return scenario.expectStatus === undefined
    ? status >= 200 && status < 300
    : status === scenario.expectStatus
}

/**
 * Every way a run can be wrong; empty when every request got a 2xx answer (the scenario's expected
 * status instead, whose other answers its onResponse counts as faults).
 */
function problems(result: autocannon.Result, scenario: Scenario): string[] {
  const found: string[] = []
  if (scenario.expectStatus !== undefined) {
    const count = result.statusCodeStats?.[`${scenario.expectStatus}`]?.count ?? 0
    if (count === 0) found.push(`no ${scenario.expectStatus} response at all`)
  } else if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, stat]) => `${code} × ${stat.count ?? 0}`)
    found.push(`${result.non2xx} non-2xx responses (${codes.join(', ')})`)
  }
  if (result.errors > 0) found.push(`${result.errors} errors (${result.timeouts} timeouts)`)
  if (result.resets > 0) found.push(`${result.resets} request pipeline resets`)
  if (scenario.expectStatus === undefined && result['2xx'] === 0) {
    found.push('no successful response at all')
  }
  return found
}

/** Names every failure of the runs on stderr; the exit code a run with failures gets. */
export function reportFailures(outcomes: readonly Outcome[]): number {
  const failed = outcomes.filter((o) => o.failures.length > 0)
  if (failed.length === 0) return 0
  const lines = failed.flatMap((o) => o.failures.map((f) => `  ${o.scenario.name}: ${f}`))
  process.stderr.write(
    `\n${'!'.repeat(72)}\nBENCHMARK INVALID: not every request got the answer it should\n` +
      `${lines.join('\n')}\n${'!'.repeat(72)}\n`,
  )
  return 1
}
