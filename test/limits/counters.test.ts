import t from 'tap'
import {
  Breaker,
  type CounterLog,
  type Counters,
  FallbackCounters,
  type Hit,
  MemoryCounters,
  RETRY_PRIMARY_MS,
  WARN_EVERY_MS,
} from '../../src/limits/counters.js'
import { ManualClock } from '../helpers/clock.js'

class RecordingLog implements CounterLog {
  readonly lines: { level: string; fields: Record<string, unknown>; message: string }[] = []
  warn(fields: Record<string, unknown>, message: string) {
    this.lines.push({ level: 'warn', fields, message })
  }
  info(fields: Record<string, unknown>, message: string) {
    this.lines.push({ level: 'info', fields, message })
  }
}

/** A primary store that fails while `down`, and counts the calls it gets. */
class FlakyCounters implements Counters {
  down = false
  calls = 0
  readonly memory: MemoryCounters
  constructor(clock: ManualClock) {
    this.memory = new MemoryCounters(clock.now)
  }
  async hit(key: string, windowMs: number): Promise<Hit> {
    this.calls++
    if (this.down) throw new Error('Connection is closed.')
    return this.memory.hit(key, windowMs)
  }
}

t.test('memory: a fixed window per key, opened by its first hit', async (t) => {
  const clock = new ManualClock()
  const counters = new MemoryCounters(clock.now)
  t.same(await counters.hit('a', 60_000), { count: 1, ttlMs: 60_000 })
  clock.advance(10)
  t.same(await counters.hit('a', 60_000), { count: 2, ttlMs: 50_000 }, 'the window does not slide')
  t.same(await counters.hit('b', 60_000), { count: 1, ttlMs: 60_000 }, 'each key its own')
  clock.advance(50)
  t.same(await counters.hit('a', 60_000), { count: 1, ttlMs: 60_000 }, 'a new window at its end')
  t.same(await counters.hit('b', 60_000), { count: 2, ttlMs: 10_000 })
})

t.test('memory: a window that ended is over even when the sweep has not reached it', async (t) => {
  const clock = new ManualClock()
  const counters = new MemoryCounters(clock.now)
  // 'long' opens first with a long window, so the sweep stops there; 'short' ends behind it.
  await counters.hit('long', 3_600_000)
  await counters.hit('short', 1_000)
  await counters.hit('short', 1_000)
  clock.advance(2)
  t.same(await counters.hit('short', 1_000), { count: 1, ttlMs: 1_000 }, 'a new window')
})

t.test('memory: the wall clock stepping back does not stretch a window', async (t) => {
  const clock = new ManualClock()
  const counters = new MemoryCounters(clock.now)
  await counters.hit('a', 60_000)
  await counters.hit('a', 60_000)
  clock.advance(-3600)
  t.same(await counters.hit('a', 60_000), { count: 1, ttlMs: 60_000 }, 'a new window, not an hour')
})

t.test('memory: ended windows are swept, and capacity bounds the rest', async (t) => {
  const clock = new ManualClock()
  const counters = new MemoryCounters(clock.now, 3)
  for (const key of ['a', 'b', 'c']) await counters.hit(key, 1_000)
  t.equal(counters.size, 3)
  clock.advance(1)
  await counters.hit('d', 1_000)
  t.equal(counters.size, 1, 'the ended windows went with the next hit')

  for (const key of ['e', 'f', 'g']) await counters.hit(key, 1_000)
  t.equal(counters.size, 3, 'never more than the capacity')
  t.same(await counters.hit('d', 1_000), { count: 1, ttlMs: 1_000 }, 'the oldest was dropped')
  t.same(await counters.hit('g', 1_000), { count: 2, ttlMs: 1_000 }, 'the newest kept')
})

t.test('fallback: the shared store while it answers, memory when it fails', async (t) => {
  const HOUR = 3_600_000
  const clock = new ManualClock()
  const log = new RecordingLog()
  const primary = new FlakyCounters(clock)
  const counters = new FallbackCounters(
    primary,
    new MemoryCounters(clock.now),
    new Breaker(clock.now, log),
  )

  t.same(await counters.hit('k', HOUR), { count: 1, ttlMs: HOUR })
  t.same(await counters.hit('k', HOUR), { count: 2, ttlMs: HOUR }, 'counted in the primary')
  primary.down = true
  t.same(await counters.hit('k', HOUR), { count: 1, ttlMs: HOUR }, 'memory counts from there')
  t.same(await counters.hit('k', HOUR), { count: 2, ttlMs: HOUR })
  t.equal(primary.calls, 3, 'after a failure the primary is left alone for a while')
  t.same(
    log.lines,
    [
      {
        level: 'warn',
        fields: { reason: 'Connection is closed.' },
        message: 'rate limits count in memory: Redis is unavailable',
      },
    ],
    'one warning, with the reason and no key',
  )

  clock.advance(RETRY_PRIMARY_MS / 1000)
  await counters.hit('k', HOUR)
  t.equal(primary.calls, 4, 'tried again once the pause is over')
  t.equal(log.lines.length, 1, 'failing again within the minute: no new warning')

  clock.advance(WARN_EVERY_MS / 1000)
  await counters.hit('k', HOUR)
  t.equal(log.lines.length, 2, 'a minute on, a reminder')

  primary.down = false
  clock.advance(RETRY_PRIMARY_MS / 1000)
  t.same(await counters.hit('k', HOUR), { count: 3, ttlMs: HOUR - 70_000 }, 'back')
})

t.test('breaker: reset by the client’s ready event, saying so once after a warning', async (t) => {
  const clock = new ManualClock()
  const log = new RecordingLog()
  const breaker = new Breaker(clock.now, log)
  breaker.reset()
  t.same(log.lines, [], 'connecting the first time is not news')
  t.notOk(breaker.isOpen())
  breaker.trip(new Error('connect ECONNREFUSED 127.0.0.1:1'))
  t.ok(breaker.isOpen())
  breaker.trip('not an Error')
  t.equal(log.lines.length, 1)
  breaker.reset()
  t.notOk(breaker.isOpen(), 'ready: the shared store at once')
  t.same(log.lines[1], { level: 'info', fields: {}, message: 'rate limits count in Redis again' })
  breaker.reset()
  t.equal(log.lines.length, 2, 'said once')
})
