/** A fixed-capacity FIFO: shift and push in O(1), whatever its length. */
export class Ring<T> {
  readonly #items: (T | undefined)[]
  #head = 0
  #length: number

  constructor(initial: readonly T[]) {
    this.#items = [...initial]
    this.#length = initial.length
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) % this.#items.length
    this.#length--
    return item
  }

  push(item: T): void {
    if (this.#length === this.#items.length) throw new Error('ring is full')
    this.#items[(this.#head + this.#length) % this.#items.length] = item
    this.#length++
  }
}
