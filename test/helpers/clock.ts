/** Where test time starts: far from today, so no test can pass by leaning on the system clock. */
const START = Date.UTC(2030, 0, 1)

/**
 * The one clock of the tests, handed to the app as its `clock`. Time moves only when a test says
 * so (`advance`), from a fixed instant, or from `Date.now` for a service that a real browser or
 * JWT library also judges by the real time (`new ManualClock(Date.now)`): moved forward, never back.
 */
export class ManualClock {
  #offsetMs = 0
  readonly #start: () => number

  constructor(start: number | (() => number) = START) {
    this.#start = typeof start === 'number' ? () => start : start
  }

  /** The time now, in milliseconds. */
  get ms(): number {
    return this.#start() + this.#offsetMs
  }

  readonly now = (): number => this.ms

  advance(seconds: number): void {
    this.#offsetMs += seconds * 1000
  }
}
