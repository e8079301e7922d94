/**
 * Several async sequences read at once, their values in the order they arrive, each tagged with
 * its source's index: the choices of one OpenAI request, the inputs of one /v1/generate list,
 * streaming side by side. A source is read one value ahead at most (its next value is asked for
 * only once the previous one was handed out), and `close(index)` stops reading it (its
 * iterator's return() is called) while the others go on.
 */

/** A source whose first value has been awaited already (so its failure could be handled first). */
export interface PrimedSource<T> {
  first: IteratorResult<T, void>
  rest: AsyncIterator<T, void, undefined>
}

/**
 * Starts every source and awaits its first value, all at once: per source, in order, the source
 * primed, or what it threw before giving any value.
 */
export async function prime<T> (sources: ReadonlyArray<AsyncIterator<T, void, undefined>>): Promise<Array<PrimedSource<T> | { failed: unknown }>> {
  const firsts = await Promise.allSettled(sources.map(async (s) => await s.next()))
  return firsts.map((f, i) => f.status === 'fulfilled' ? { first: f.value, rest: sources[i] as AsyncIterator<T, void, undefined> } : { failed: f.reason })
}

export interface Interleaved<T> {
  values: AsyncGenerator<{ index: number, value: T }, void, undefined>
  /** Stops reading source `index`; its iterator is returned (not awaited: it may be waiting for a value). */
  close: (index: number) => void
}

/** Interleaves `sources` (their indexes are their positions). */
export function interleave<T> (sources: ReadonlyArray<PrimedSource<T>>): Interleaved<T> {
  const closed = new Set<number>()
  const finished = new Set<number>()
  const close = (index: number): void => {
    if (closed.has(index) || finished.has(index)) return
    closed.add(index)
    sources[index].rest.return?.(undefined)?.catch(() => {})
  }
  async function * values (): AsyncGenerator<{ index: number, value: T }, void, undefined> {
    type Step = { index: number, result: IteratorResult<T, void> }
    const pending = new Map<number, Promise<Step>>()
    const ready: Step[] = sources.map((s, index) => ({ index, result: s.first }))
    try {
      while (ready.length > 0 || pending.size > 0) {
        const step = ready.shift() ?? await Promise.race(pending.values())
        pending.delete(step.index)
        if (closed.has(step.index)) continue
        if (step.result.done === true) {
          finished.add(step.index)
          continue
        }
        yield { index: step.index, value: step.result.value }
        if (!closed.has(step.index)) pending.set(step.index, sources[step.index].rest.next().then((result) => ({ index: step.index, result })))
      }
    } finally {
      for (let i = 0; i < sources.length; i++) close(i)
    }
  }
  return { values: values(), close }
}
