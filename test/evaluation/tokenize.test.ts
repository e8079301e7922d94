import t from 'tap'
import { tokenize, Tokenizer } from '../../src/evaluation/tokenize.js'

t.test('lowercases and splits on every run outside [a-z0-9]', async (t) => {
  t.same(tokenize('Hello, World!'), ['hello', 'world'])
  t.same(tokenize('x86_64 e-mail $1,000'), ['x86', '64', 'e', 'mail', '1', '000'])
  t.same(tokenize(''), [])
  t.same(tokenize('  ... !!! — '), [])
})

t.test('non-ASCII letters are separators, except those Python lowercases to ASCII', async (t) => {
  t.same(tokenize('Zürich café Ελλάδα 東京'), ['z', 'rich', 'caf'])
  // U+212A KELVIN SIGN lowercases to ASCII 'k'; U+0130 to 'i' + combining dot (a separator)
  t.same(tokenize('\u212AELVIN \u0130stanbul'), ['kelvin', 'i', 'stanbul'])
})

t.test('stems only tokens longer than 3 characters', async (t) => {
  t.same(tokenize('was bias runs dies', true), ['was', 'bia', 'run', 'die'])
  t.same(tokenize('was bias runs dies', false), ['was', 'bias', 'runs', 'dies'])
})

t.test('encode interns equal tokens to equal ids and records line starts', async (t) => {
  const tokenizer = new Tokenizer(true)
  const a = tokenizer.encode('Running runs\n\nrun!')
  t.same(Array.from(a.ids), [0, 0, 0], 'running, runs and run share the stem "run"')
  t.same(Array.from(a.lineStarts), [0, 2, 2, 3])
  t.equal(tokenizer.token(0), 'run')
  t.equal(tokenizer.size, 1)
  const b = tokenizer.encode('')
  t.same(Array.from(b.ids), [])
  t.same(Array.from(b.lineStarts), [0, 0])
})
