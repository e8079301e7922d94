import t from 'tap'
import {
  generate, ModelInputError, splitSentences, stripInstruction, summarize, truncateWords, MAX_RETURN_SEQUENCES
} from '../../src/local/engine.js'

const PROMPT = 'Briefly summarize this text: '

// Six sentences, written for these tests.
const ARTICLE = [
  'The harbour council approved a new ferry route on Tuesday.',
  'Boats will leave the north pier every forty minutes.',
  'Mr. Alvarez, who chairs the council, called it "a small but real change."',
  'Residents had asked for the route since 2019!',
  'Will fares rise?',
  'Officials said prices stay the same until spring.'
].join(' ')

t.test('splitSentences', async (t) => {
  t.same(splitSentences(ARTICLE), [
    'The harbour council approved a new ferry route on Tuesday.',
    'Boats will leave the north pier every forty minutes.',
    'Mr. Alvarez, who chairs the council, called it "a small but real change."',
    'Residents had asked for the route since 2019!',
    'Will fares rise?',
    'Officials said prices stay the same until spring.'
  ], 'ends on . ! ? and closing quotes; Mr. is not an end')

  t.same(splitSentences('Dr. J. R. Okafor met officials in the U.S. on Friday. They agreed.'),
    ['Dr. J. R. Okafor met officials in the U.S. on Friday.', 'They agreed.'],
    'titles, initials and dotted acronyms do not end sentences')

  t.same(splitSentences('"Are you sure?" she asked. He nodded.'),
    ['"Are you sure?" she asked.', 'He nodded.'],
    'a quoted question followed by a lower-case word continues the sentence')

  t.same(splitSentences('the mayor said " we are ready . " he then left . crowds cheered .'),
    ['the mayor said " we are ready . "', 'he then left .', 'crowds cheered .'],
    'tokenised text: a standalone closing quote stays with its sentence')

  t.same(splitSentences('officials met . " it went well , " one said .'),
    ['officials met .', '" it went well , " one said .'],
    'tokenised text: a standalone opening quote starts the next sentence')

  t.same(splitSentences('Headline without a stop\n\nBody starts here. It ends.'),
    ['Headline without a stop', 'Body starts here.', 'It ends.'], 'blank lines separate sentences')

  t.same(splitSentences('no terminator at all'), ['no terminator at all'])
  t.same(splitSentences('   '), [])
})

t.test('stripInstruction', async (t) => {
  t.equal(stripInstruction(PROMPT + 'Ferries run daily.'), 'Ferries run daily.')
  t.equal(stripInstruction('Summarize: Ferries run daily.'), 'Ferries run daily.')
  t.equal(stripInstruction('Article: Ferries run daily.\n\nTL;DR:'), 'Ferries run daily.', 'leading and trailing prompts')
  t.equal(stripInstruction('The minister said: ferries run daily.'), 'The minister said: ferries run daily.',
    'a colon in ordinary prose is kept')
  t.equal(stripInstruction('Warning. Read this text: ferries run daily.'), 'Warning. Read this text: ferries run daily.',
    'a prefix containing a sentence end is not an instruction')
  t.equal(stripInstruction('Summarize the following text:'), 'Summarize the following text:',
    'an input that is only an instruction is kept')
})

t.test('summarize: lead-3 and prompt stripping', async (t) => {
  const lead3 = 'The harbour council approved a new ferry route on Tuesday. Boats will leave the north pier every forty minutes. ' +
    'Mr. Alvarez, who chairs the council, called it "a small but real change."'
  t.same(summarize(PROMPT + ARTICLE), [lead3])
  t.same(summarize(ARTICLE), [lead3], 'the prompt does not change the summary')
  t.same(summarize('Only one sentence here.'), ['Only one sentence here.'])
})

t.test('summarize: max_length cuts at a word boundary', async (t) => {
  t.same(summarize(ARTICLE, { max_length: 5 }), ['The harbour council approved a'])
  t.same(summarize(ARTICLE, { max_length: 1 }), ['The'])
  const full = summarize(ARTICLE)[0]
  t.same(summarize(ARTICLE, { max_length: 1000 }), [full], 'a large limit changes nothing')
  t.equal(truncateWords('a  b   c d', 3), 'a b c')
  t.equal(truncateWords('a b', 3), 'a b')
})

t.test('summarize: num_return_sequences gives distinct variants, lead first', async (t) => {
  const variants = summarize(PROMPT + ARTICLE, { num_return_sequences: 4 })
  t.equal(variants.length, 4)
  t.equal(new Set(variants).size, 4, 'all distinct')
  t.equal(variants[0], summarize(ARTICLE)[0], 'the first is the lead-3')
  t.same(summarize(PROMPT + ARTICLE, { num_return_sequences: 4 }), variants, 'deterministic')

  const tight = summarize(ARTICLE, { num_return_sequences: 3, max_length: 4 })
  t.equal(new Set(tight).size, 3, 'still distinct after truncation')

  const short = summarize('Just one sentence.', { num_return_sequences: 3 })
  t.same(short, ['Just one sentence.', 'Just one sentence.', 'Just one sentence.'],
    'fewer distinct variants than asked are repeated, never fewer items')
})

t.test('summarize: do_sample with seed', async (t) => {
  const a = summarize(ARTICLE, { do_sample: true, seed: 7 })
  t.same(summarize(ARTICLE, { do_sample: true, seed: 7 }), a, 'same input and seed, same output')
  t.same(summarize(ARTICLE, { do_sample: true }), summarize(ARTICLE, { do_sample: true, seed: 0 }), 'no seed means seed 0')

  const outputs = new Set<string>()
  for (let seed = 0; seed < 20; seed++) outputs.add(summarize(ARTICLE, { do_sample: true, seed })[0])
  t.ok(outputs.size >= 5, `different seeds usually differ (${outputs.size} distinct of 20)`)

  const sentences = splitSentences(ARTICLE)
  for (const text of outputs) {
    const picked = sentences.filter((s) => text.includes(s))
    t.equal(picked.length, 3, 'each sample is three of the sentences')
    t.ok(picked.every((s, i) => i === 0 || sentences.indexOf(s) > sentences.indexOf(picked[i - 1])), 'in document order')
  }

  const k = summarize(ARTICLE, { do_sample: true, seed: 3, num_return_sequences: 4 })
  t.equal(k.length, 4)
  t.equal(new Set(k).size, 4, 'k samples are distinct when the text allows')
  t.same(summarize(ARTICLE, { do_sample: true, seed: 2 ** 40 + 5 }), summarize(ARTICLE, { do_sample: true, seed: 2 ** 40 + 5 }),
    'large seeds are fine')
})

t.test('summarize ignores the other JumpStart parameters', async (t) => {
  t.same(summarize(ARTICLE, { num_beams: 4, top_k: 50, top_p: 0.9, temperature: 0.7, no_repeat_ngram_size: 3, early_stopping: true }),
    summarize(ARTICLE))
})

// The list shape is the one the AWS notebook reads (amazon-sagemaker-examples,
// introduction_to_amazon_algorithms/jumpstart-foundation-models/text2text-generation-flan-t5-Batch-Transform.ipynb,
// "Real-Time Batch Inference"): it json.loads the body and prints `*generated_text_list` one per
// line, so the body is a top-level list with one entry per input; each entry is that input's
// generated_texts list, as on a string input and on each batch output line.
t.test('generate: response shapes', async (t) => {
  const lead = summarize(ARTICLE)[0]
  t.same(generate({ text_inputs: PROMPT + ARTICLE }), { generated_texts: [lead] }, 'string input: {generated_texts}')
  t.same(generate({ text_inputs: PROMPT + ARTICLE, num_return_sequences: 2, num_beams: 2 }),
    { generated_texts: summarize(ARTICLE, { num_return_sequences: 2 }) }, 'string input, k texts')
  t.same(generate({ text_inputs: [ARTICLE, 'Second text. Two lines.'] }),
    [[lead], ['Second text. Two lines.']], 'list input: a top-level list, one list of texts per input')
  const nested = generate({ text_inputs: [ARTICLE, 'Second text. Two lines.'], num_return_sequences: 2, do_sample: true, seed: 1 })
  t.ok(Array.isArray(nested) && nested.length === 2 && nested.every((x) => Array.isArray(x) && x.length === 2), 'list input, k > 1: k texts per input')
  t.same(generate({ text_inputs: [ARTICLE], max_length: 3 }), [['The harbour council']])
})

t.test('generate: invalid bodies are a model-side 400', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /JSON object/],
    [[ARTICLE], /JSON object/],
    [{}, /"text_inputs" is required/],
    [{ text_inputs: '' }, /must not be empty/],
    [{ text_inputs: [] }, /empty list/],
    [{ text_inputs: [ARTICLE, 3] }, /"text_inputs\[1\]" must be a string, got number/],
    [{ text_inputs: ['ok', '  '] }, /"text_inputs\[1\]" must not be empty/],
    [{ text_inputs: 42 }, /string or a list of strings/],
    [{ text_inputs: ARTICLE, max_length: '5' }, /"max_length" must be an integer >= 1, got "5"/],
    [{ text_inputs: ARTICLE, max_length: 0 }, /"max_length"/],
    [{ text_inputs: ARTICLE, num_return_sequences: 1.5 }, /"num_return_sequences"/],
    [{ text_inputs: ARTICLE, num_return_sequences: MAX_RETURN_SEQUENCES + 1 }, /"num_return_sequences" must be an integer between 1 and/],
    [{ text_inputs: ARTICLE, do_sample: 'yes' }, /"do_sample" must be a boolean/],
    [{ text_inputs: ARTICLE, top_p: 1.5 }, /"top_p"/],
    [{ text_inputs: ARTICLE, temperature: 0 }, /"temperature" must be a number > 0/],
    [{ text_inputs: ARTICLE, seed: 'x' }, /"seed" must be an integer/],
    [{ text_inputs: ARTICLE, banana: 1 }, /Unknown parameter "banana"; allowed: max_length/],
    [{ text_inputs: ARTICLE, num_return_sequences: 3, num_beams: 2 }, /"num_return_sequences" \(3\) must be <= "num_beams" \(2\)/]
  ]
  for (const [body, message] of bad) {
    const label = `${JSON.stringify(body)?.slice(0, 60) ?? String(body)} → 400 ${String(message)}`
    let caught: unknown
    try {
      generate(body)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof ModelInputError, `${label}: a ModelInputError`)
    t.match(caught, { statusCode: 400, message }, label)
  }
  t.doesNotThrow(() => generate({ text_inputs: ARTICLE, num_return_sequences: 3, do_sample: true }), 'sampling needs no beams')
})

// JumpStart's FLAN-T5 parameter list (amazon-sagemaker-examples,
// introduction_to_amazon_algorithms/jumpstart-foundation-models/text2text-generation-flan-t5-Batch-Transform.ipynb):
// "batch_size: ... If specified, it must be a positive integer"; the notebook's real-time list
// payload carries it beside the generation parameters.
t.test('generate: batch_size is a documented parameter (a positive integer)', async (t) => {
  const notebook = { text_inputs: [ARTICLE, 'Second text. Two lines.'], max_length: 50, num_return_sequences: 1, top_k: 50, top_p: 0.95, do_sample: true, batch_size: 4 }
  t.doesNotThrow(() => generate(notebook), 'the notebook\'s real-time payload')
  t.same(generate(notebook), generate({ ...notebook, batch_size: 1 }), 'the pipeline batch changes no output')
  for (const bad of [0, -1, 1.5, '4', true]) {
    t.throws(() => generate({ text_inputs: ARTICLE, batch_size: bad }), { statusCode: 400, message: /"batch_size" must be an integer >= 1, got / }, `batch_size ${JSON.stringify(bad)}`)
  }
})
