/**
 * The first `count` defined results of `map` over `items`, in the items' order. Up to
 * `concurrency` calls run at once, but never more than are still needed, so a list of 20 reads
 * about 20 objects, not a whole page of them.
 */
export async function firstMatching<T, R> (items: AsyncIterable<T>, count: number, map: (item: T) => Promise<R | undefined>, concurrency = 16): Promise<R[]> {
  const out: R[] = []
  const inFlight: Array<Promise<R | undefined>> = []
  const iterator = items[Symbol.asyncIterator]()
  let exhausted = false
  try {
    while (out.length < count) {
      while (!exhausted && inFlight.length < Math.min(concurrency, count - out.length)) {
        const next = await iterator.next()
        if (next.done === true) { exhausted = true; break }
        const result = map(next.value)
        // a call left running when enough were found must not become an unhandled rejection
        result.catch(() => {})
        inFlight.push(result)
      }
      const head = inFlight.shift()
      if (head === undefined) break
      const value = await head
      if (value !== undefined) out.push(value)
    }
  } finally {
    await iterator.return?.(undefined)
  }
  return out
}
