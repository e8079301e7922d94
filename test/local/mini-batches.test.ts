import t from 'tap'
import type { ContainerRecord } from '../../src/local/container.js'
import { canonical, failedBatch, MiniBatchPlanner, type Batch } from '../../src/local/mini-batches.js'

const record = (line: number, input: string | string[], params: Record<string, unknown> = {}): ContainerRecord =>
  ({ id: line, hasId: true, input, params, line })

/** Plans `records` (each ending 10 bytes after the previous) and returns the batches' lines. */
function plan (planner: MiniBatchPlanner, records: ContainerRecord[]): Batch[] {
  const out: Batch[] = []
  records.forEach((r, i) => {
    const closed = planner.add(r, (i + 1) * 10)
    if (closed !== undefined) out.push(closed)
  })
  const rest = planner.take()
  if (rest !== undefined) out.push(rest)
  return out
}

const lines = (batches: Batch[]): number[][] => batches.map(b => b.records.map(r => r.line))

t.test('batch_size bounds a mini-batch; the last one holds the rest', async t => {
  const batches = plan(new MiniBatchPlanner({ batchSize: 2, maxPayloadBytes: 1e6 }), [1, 2, 3, 4, 5].map(i => record(i, `text ${i}`)))
  t.same(lines(batches), [[1, 2], [3, 4], [5]])
  t.same(batches.map(b => [b.endOffset, b.endLine]), [[20, 2], [40, 4], [50, 5]], 'each batch ends where its last record ends')
})

t.test('a change of parameters closes the batch; equal parameters in another key order do not', async t => {
  const planner = new MiniBatchPlanner({ batchSize: 10, maxPayloadBytes: 1e6 })
  const batches = plan(planner, [
    record(1, 'a', { max_length: 5, num_beams: 2 }),
    record(2, 'b', { num_beams: 2, max_length: 5 }),
    record(3, 'c', { max_length: 6 }),
    record(4, 'd', { max_length: 5, num_beams: 2 })
  ])
  t.same(lines(batches), [[1, 2], [3], [4]])
  t.equal(canonical({ b: 1, a: 2 }), canonical({ a: 2, b: 1 }))
})

t.test('MaxPayloadInMB bounds the bytes of a batch\'s inputs', async t => {
  // each input adds its JSON length + 1: "xxxx" is 6 + 1 = 7 bytes
  const batches = plan(new MiniBatchPlanner({ batchSize: 10, maxPayloadBytes: 14 }), [1, 2, 3].map(i => record(i, 'xxxx')))
  t.same(lines(batches), [[1, 2], [3]])
  t.same(batches.map(b => b.bytes), [14, 7])
})

t.test('a record whose text_inputs is a list is a request of its own', async t => {
  const batches = plan(new MiniBatchPlanner({ batchSize: 10, maxPayloadBytes: 1e6 }), [
    record(1, 'a'), record(2, ['b', 'c']), record(3, 'd'), record(4, 'e')
  ])
  t.same(lines(batches), [[1], [2], [3, 4]])
})

t.test('take() forgets the open batch; a failed batch carries its reason and no records', async t => {
  const planner = new MiniBatchPlanner({ batchSize: 10, maxPayloadBytes: 1e6 })
  t.equal(planner.take(), undefined)
  t.equal(planner.add(record(1, 'a'), 10), undefined)
  t.same(planner.take()?.records.map(r => r.line), [1])
  t.equal(planner.take(), undefined)
  t.same(failedBatch('ClientError: x', 30, 3), { paramsKey: '', params: {}, records: [], bytes: 0, endOffset: 30, endLine: 3, failure: 'ClientError: x' })
})
