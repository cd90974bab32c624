import t from 'tap'
import { type Row, verdict } from '../../bench/soak-report.js'

// The soak's verdict on its windows: flat means the last window at most 10% above the second
// (the first is the warm-up), and any 5xx or error fails, wherever it was counted.

const row = (window: number, rssMiB: number, loopP99Ms: number, fiveXx = 0, errors = 0): Row => ({
  window,
  requests: 1000,
  reqPerSec: 100,
  p99Ms: 10,
  rssMiB,
  heapMiB: 40,
  loopP50Ms: 0.1,
  loopP99Ms,
  fiveXx,
  errors,
})
const failed = (checks: ReturnType<typeof verdict>) =>
  checks.filter((c) => !c.ok).map((c) => c.name)
const none = { fiveXx: 0, errors: 0 }

t.test('flat within 10%, growth past it fails, a fall does not', async (t) => {
  t.same(failed(verdict([row(1, 200, 20), row(2, 180, 10), row(3, 195, 10.9)], none)), [])
  t.same(failed(verdict([row(1, 200, 20), row(2, 180, 10), row(3, 199, 10)], none)), ['RSS flat'])
  t.same(failed(verdict([row(1, 200, 20), row(2, 180, 10), row(3, 180, 12)], none)), [
    'event-loop delay flat',
  ])
  t.same(failed(verdict([row(1, 200, 20), row(2, 180, 10), row(3, 120, 4)], none)), [])
})

t.test('event-loop differences under a millisecond are not judged', async (t) => {
  t.same(failed(verdict([row(1, 200, 1), row(2, 180, 0.2), row(3, 180, 0.9)], none)), [])
})

t.test('a 5xx or an error anywhere fails', async (t) => {
  t.same(failed(verdict([row(1, 200, 2), row(2, 180, 2, 1), row(3, 180, 2)], none)), ['5xx'])
  t.same(failed(verdict([row(1, 200, 2), row(2, 180, 2), row(3, 180, 2, 0, 1)], none)), ['errors'])
  const rows = [row(1, 200, 2), row(2, 180, 2), row(3, 180, 2)]
  t.same(failed(verdict(rows, { fiveXx: 2, errors: 0 })), ['5xx'])
})
