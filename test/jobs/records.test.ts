import t from 'tap'
import { IdSet, jumpStartLine, toJumpStartRecord, toReference } from '../../src/jobs/records.js'

t.test('text lines become JumpStart lines with the prompt prepended', async t => {
  const v = toJumpStartRecord({ id: 1, text: 'Body.', parameters: { max_length: 20 } }, 'Summarize: ')
  t.same(v, { ok: true, record: { id: 1, line: '{"id":1,"text_inputs":"Summarize: Body.","max_length":20}' } })
  const js = toJumpStartRecord({ id: 'a', text_inputs: 'As is.', num_beams: 2 }, 'Summarize: ')
  t.same(js, { ok: true, record: { id: 'a', line: '{"id":"a","text_inputs":"As is.","num_beams":2}' } }, 'JumpStart lines are sent as written')
  t.equal(jumpStartLine('q"x', 'a\nb'), '{"id":"q\\"x","text_inputs":"a\\nb"}')
})

t.test('bad records: the message names the field and value', async t => {
  const cases: Array<[unknown, RegExp]> = [
    [[1, 2], /line must be a JSON object \(got \[1,2\]\)/],
    ['str', /line must be a JSON object/],
    [{ text: 'x' }, /line\.id is required/],
    [{ id: 1.5, text: 'x' }, /line\.id must be string or integer \(got 1\.5\)/],
    [{ id: '', text: 'x' }, /line\.id must not be empty/],
    [{ id: 1 }, /line\.text is required/],
    [{ id: 1, text: '' }, /line\.text must not be empty/],
    [{ id: 1, text: 'x', txt: 'y' }, /line has unknown key "txt"; allowed keys: id, text, parameters/],
    [{ id: 1, text: 'x', parameters: { num_beams: 99 } }, /line\.parameters\.num_beams must be <= 16 \(got 99\)/],
    [{ id: 1, text: 'x', parameters: { beams: 2 } }, /line\.parameters has unknown key "beams"/],
    [{ id: 1, text: 'x', parameters: { num_beams: 1, num_return_sequences: 2 } }, /line\.parameters\.num_beams \(1\) must be >= line\.parameters\.num_return_sequences \(2\)/],
    [{ id: 1, text: 'x', parameters: { batch_size: 0 } }, /line\.parameters\.batch_size must be >= 1 \(got 0\)/],
    [{ id: 1, text_inputs: 'x', top_p: 2 }, /line\.top_p must be <= 1 \(got 2\)/],
    [{ id: 1, text_inputs: 'x', batch_size: 257 }, /line\.batch_size must be <= 256 \(got 257\)/],
    [{ id: 1, text_inputs: ['a', 'b'] }, /line\.text_inputs must be string/],
    [{ id: 1, text: 'a', text_inputs: 'b' }, /line has both text and text_inputs; send one/]
  ]
  for (const [value, message] of cases) {
    const v = toJumpStartRecord(value, '')
    t.equal(v.ok, false, JSON.stringify(value))
    if (!v.ok) t.match(v.message, message, JSON.stringify(value))
  }
})

t.test('ids are unique as strings', async t => {
  const ids = new IdSet()
  t.equal(ids.add(7, 1), undefined)
  t.equal(ids.add('8', 2), undefined)
  t.equal(ids.add('7', 3), 1, '"7" collides with 7')
  t.equal(ids.add(8, 4), 2)
  t.equal(ids.size, 2)
})

t.test('references read text or text_inputs', async t => {
  t.same(toReference({ id: 1, text: 'r' }), { id: 1, text: 'r' })
  t.same(toReference({ id: 'a', text_inputs: 'r2', max_length: 3 }), { id: 'a', text: 'r2' })
  t.equal(toReference({ id: 1 }), undefined)
  t.equal(toReference({ text: 'x' }), undefined)
})

// JumpStart documents batch_size like every other FLAN-T5 parameter ("If specified, it must be a
// positive integer": amazon-sagemaker-examples, text2text-generation-flan-t5-Batch-Transform.ipynb);
// a record may carry it (the container uses it when the job sets no HYPER_PARAMS)
t.test('a record may carry batch_size', async t => {
  t.same(toJumpStartRecord({ id: 2, text: 'Body.', parameters: { batch_size: 4 } }, ''),
    { ok: true, record: { id: 2, line: '{"id":2,"text_inputs":"Body.","batch_size":4}' } })
  t.same(toJumpStartRecord({ id: 3, text_inputs: 'As is.', batch_size: 2 }, ''),
    { ok: true, record: { id: 3, line: '{"id":3,"text_inputs":"As is.","batch_size":2}' } })
})
