/** An entry the heap can find again in O(1): it owns its slot index while it is in the heap. */
export interface HeapEntry {
  readonly deadline: number
  // position in the heap array; -1 when not in a heap
  heapIndex: number
}

/**
 * A binary min-heap on `deadline` with O(log n) removal of any entry, so that one timer
 * (armed for `peek()`) serves every pending item and settled items leave at once instead of
 * lingering until their deadline.
 */
export class DeadlineHeap<T extends HeapEntry> {
  readonly #items: T[] = []

  /** Number of entries. */
  get size (): number { return this.#items.length }

  /** The entry with the earliest deadline, if any. */
  peek (): T | undefined { return this.#items[0] }

  /** Add an entry that is not in any heap. */
  push (entry: T): void {
    entry.heapIndex = this.#items.length
    this.#items.push(entry)
    this.#up(entry.heapIndex)
  }

  /** Remove and return the earliest entry. */
  pop (): T | undefined {
    const top = this.#items[0]
    if (top !== undefined) this.remove(top)
    return top
  }

  /** Remove an entry; a no-op if it is not in this heap. */
  remove (entry: T): void {
    const i = entry.heapIndex
    if (i < 0 || this.#items[i] !== entry) return
    const last = this.#items.pop() as T
    entry.heapIndex = -1
    if (last === entry) return
    this.#items[i] = last
    last.heapIndex = i
    this.#up(i)
    this.#down(last.heapIndex)
  }

  #up (i: number): void {
    const items = this.#items
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (items[parent].deadline <= items[i].deadline) return
      this.#swap(i, parent)
      i = parent
    }
  }

  #down (i: number): void {
    const items = this.#items
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let least = i
      if (left < items.length && items[left].deadline < items[least].deadline) least = left
      if (right < items.length && items[right].deadline < items[least].deadline) least = right
      if (least === i) return
      this.#swap(i, least)
      i = least
    }
  }

  #swap (a: number, b: number): void {
    const items = this.#items
    const tmp = items[a]
    items[a] = items[b]
    items[b] = tmp
    items[a].heapIndex = a
    items[b].heapIndex = b
  }
}
