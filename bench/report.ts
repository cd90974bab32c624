/**
 * What the bench scripts print: the header that says what was measured where, the tables, and the
 * target lines (measured, target, met or NOT met).
 */
import { execFileSync } from 'node:child_process'
import { arch, cpus, loadavg, platform } from 'node:os'
import { type Measured, percentile } from './load.js'
import { CONNECTIONS, PIPELINING, SECONDS, WARMUP_SECONDS } from './options.js'
import { out } from './run.js'

/** The title, the commit measured, the machine and the load settings. */
export function printHeader(title: string, rounds: number): void {
  printMachine(title)
  out(
    `run  ${CONNECTIONS} connections, pipelining ${PIPELINING}, ` +
      `${WARMUP_SECONDS} s warm-up + ${SECONDS} s per scenario and round, ` +
      `${rounds} round${rounds === 1 ? '' : 's'} (the median shown)`,
  )
}

/** The title, the commit measured and the machine (how busy it was at the start). */
export function printMachine(title: string): void {
  const cpu = cpus()
  out(title)
  out(`commit ${commit()} · node ${process.version} · ${platform()} ${arch()}`)
  const busy = loadavg()[0]?.toFixed(2) ?? '?'
  out(
    `cpu  ${cpu[0]?.model.trim() ?? 'unknown'} · ${cpu.length} cores · load average ${busy} at start`,
  )
}

/** The short hash of HEAD, and whether the working tree differs from it. */
function commit(): string {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  try {
    const hash = git('rev-parse', '--short', 'HEAD')
    return git('status', '--porcelain') === '' ? hash : `${hash} + uncommitted changes`
  } catch {
    return 'unknown (not a git checkout)'
  }
}

/** The columns every scenario row has: throughput, latency, server CPU, counts. */
export const OUTCOME_COLUMNS = ['req/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU µs/req']

export function outcomeCells(o: Measured): string[] {
  return [
    o.result.requests.mean.toFixed(0),
    percentile(o.latencies, 50).toFixed(2),
    percentile(o.latencies, 99).toFixed(2),
    o.maxMs.toFixed(1),
    cpuPerRequest(o).toFixed(0),
  ]
}

/** The server's CPU time per response of the timed run, µs. */
export const cpuPerRequest = (o: Measured): number =>
  o.cpuMicros / Math.max(1, o.result['2xx'] + o.result.non2xx)

export const LEGEND = [
  'max ms: the slowest response of the timed runs (every round), whatever its status',
  'server CPU µs/req: user + system time of the server process over the run, per response ' +
    "(PostgreSQL's own not included)",
  'errors: unexpected statuses, failed requests and wrong answers of the timed runs (every round)',
]

export const p99 = (o: Measured): number => percentile(o.latencies, 99)
export const reqPerSecond = (o: Measured): number => o.result.requests.mean
/** Every round's throughput, when there was more than one. */
export const roundsCell = (o: Measured): string =>
  o.rounds.length > 1 ? o.rounds.map((r) => r.toFixed(0)).join(' ') : ''
/** A size in KiB (maxRSS's unit; a size in bytes is divided by 1024 first), in MiB, with the unit. */
export const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`

/**
 * Columns aligned: the first to the left, the others to the right. A column with nothing under
 * its heading (every round's throughput, when there was one round) is left out.
 */
export function printTable(table: string[][]): void {
  const [heading = [], ...body] = table
  const shown = heading.map((_, i) => body.some((row) => (row[i] ?? '') !== ''))
  const rows = table.map((row) => row.filter((_, i) => shown[i]))
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)))
  for (const row of rows) {
    out(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  '),
    )
  }
}

/** One target: what was measured against what it should be, and whether it is. */
export function printTarget(label: string, measured: string, target: string, met: boolean): void {
  out(`${label}: ${measured} (target ${target}) ${met ? 'met' : 'NOT met'}`)
}
