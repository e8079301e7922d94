import fc from 'fast-check'
import t from 'tap'
import { porterStem } from '../../src/evaluation/porter.js'
import { fmeasure, isRougeType, RougeScorer, scoreRouge, type Score } from '../../src/evaluation/rouge.js'

const TYPES = ['rouge1', 'rouge2', 'rouge3', 'rougeL', 'rougeLsum'] as const

/** Differences beyond 1e-15 between two scores, as readable strings (empty when equal). */
function diff (got: Score, want: Score): string[] {
  return (['precision', 'recall', 'fmeasure'] as const)
    .filter((k) => !(Math.abs(got[k] - want[k]) <= 1e-15))
    .map((k) => `${k}: got ${got[k]}, want ${want[k]}`)
}

// ---- A line-by-line port of rouge/rouge_scorer.py + tokenize.py on strings: the oracle. ----
function oracleTokenize (text: string, stem: boolean): string[] {
  const tokens = text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/)
  return tokens.map((x) => (stem && x.length > 3 ? porterStem(x) : x)).filter((x) => /^[a-z0-9]+$/.test(x))
}
function oracleScore (precision: number, recall: number): Score {
  return { precision, recall, fmeasure: fmeasure(precision, recall) }
}
function oracleNgrams (target: string[], prediction: string[], n: number): Score {
  const grams = (tokens: string[]): Map<string, number> => {
    const m = new Map<string, number>()
    for (let i = 0; i < tokens.length - n + 1; i++) {
      const k = tokens.slice(i, i + n).join(' ')
      m.set(k, (m.get(k) ?? 0) + 1)
    }
    return m
  }
  const tg = grams(target)
  const pg = grams(prediction)
  let inter = 0
  for (const [k, c] of tg) inter += Math.min(c, pg.get(k) ?? 0)
  const tc = [...tg.values()].reduce((a, b) => a + b, 0)
  const pc = [...pg.values()].reduce((a, b) => a + b, 0)
  return oracleScore(inter / Math.max(pc, 1), inter / Math.max(tc, 1))
}
function lcsTable (ref: string[], can: string[]): number[][] {
  const table = Array.from({ length: ref.length + 1 }, () => new Array<number>(can.length + 1).fill(0))
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) {
      table[i][j] = ref[i - 1] === can[j - 1] ? table[i - 1][j - 1] + 1 : Math.max(table[i - 1][j], table[i][j - 1])
    }
  }
  return table
}
function oracleLcs (target: string[], prediction: string[]): Score {
  if (target.length === 0 || prediction.length === 0) return oracleScore(0, 0)
  const lcs = lcsTable(target, prediction)[target.length][prediction.length]
  return oracleScore(lcs / prediction.length, lcs / target.length)
}
function backtrack (table: number[][], ref: string[], can: string[]): number[] {
  let i = ref.length
  let j = can.length
  const lcs: number[] = []
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      lcs.unshift(i - 1)
      i--
      j--
    } else if (table[i][j - 1] > table[i - 1][j]) j--
    else i--
  }
  return lcs
}
function oracleLsum (target: string, prediction: string, stem: boolean): Score {
  const sents = (text: string): string[][] => text.split('\n').filter((x) => x.length > 0).map((s) => oracleTokenize(s, stem))
  const refSents = sents(target)
  const canSents = sents(prediction)
  if (refSents.length === 0 || canSents.length === 0) return oracleScore(0, 0)
  const m = refSents.reduce((a, s) => a + s.length, 0)
  const n = canSents.reduce((a, s) => a + s.length, 0)
  if (m === 0 || n === 0) return oracleScore(0, 0)
  const cntR = new Map<string, number>()
  const cntC = new Map<string, number>()
  for (const s of refSents) for (const x of s) cntR.set(x, (cntR.get(x) ?? 0) + 1)
  for (const s of canSents) for (const x of s) cntC.set(x, (cntC.get(x) ?? 0) + 1)
  let hits = 0
  for (const r of refSents) {
    const union = new Set<number>()
    for (const c of canSents) for (const i of backtrack(lcsTable(r, c), r, c)) union.add(i)
    for (const i of [...union].sort((a, b) => a - b)) {
      const tok = r[i]
      if ((cntC.get(tok) ?? 0) > 0 && (cntR.get(tok) ?? 0) > 0) {
        hits++
        cntC.set(tok, (cntC.get(tok) ?? 0) - 1)
        cntR.set(tok, (cntR.get(tok) ?? 0) - 1)
      }
    }
  }
  return oracleScore(hits / n, hits / m)
}
function oracle (target: string, prediction: string, stem: boolean): Record<string, Score> {
  const tt = oracleTokenize(target, stem)
  const pt = oracleTokenize(prediction, stem)
  return {
    rouge1: oracleNgrams(tt, pt, 1),
    rouge2: oracleNgrams(tt, pt, 2),
    rouge3: oracleNgrams(tt, pt, 3),
    rougeL: oracleLcs(tt, pt),
    rougeLsum: oracleLsum(target, prediction, stem)
  }
}

t.test('hand-computed scores', async (t) => {
  const s = scoreRouge('the cat sat', 'The cat!')
  t.same(diff(s.rouge1, { precision: 1, recall: 2 / 3, fmeasure: 0.8 }), [], 'rouge1')
  t.same(diff(s.rouge2, { precision: 1, recall: 0.5, fmeasure: 2 / 3 }), [], 'rouge2')
  t.same(diff(s.rougeL, { precision: 1, recall: 2 / 3, fmeasure: 0.8 }), [], 'rougeL')
})

t.test('empty and punctuation-only texts score 0 without NaN', async (t) => {
  for (const [ref, pred] of [['', ''], ['', 'something'], ['something', ''], ['?!', '...'], ['a b', '— …']]) {
    const s = scoreRouge(ref, pred)
    for (const type of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']) t.same(s[type], { precision: 0, recall: 0, fmeasure: 0 }, `${JSON.stringify([ref, pred])} ${type}`)
  }
})

t.test('non-ASCII letters split words', async (t) => {
  // 'zürich' -> 'z', 'rich'; 'zurich' stays one token, so nothing matches.
  t.equal(scoreRouge('Zürich', 'zurich').rouge1.fmeasure, 0)
  t.same(diff(scoreRouge('Zürich', 'z rich').rouge2, { precision: 1, recall: 1, fmeasure: 1 }), [], 'z rich bigram')
})

t.test('repeated tokens are clipped by count', async (t) => {
  t.same(diff(scoreRouge('a a a a', 'a').rouge1, { precision: 1, recall: 0.25, fmeasure: 0.4 }), [], 'one of four')
  t.same(diff(scoreRouge('a a', 'a a a a').rouge1, { precision: 0.5, recall: 1, fmeasure: 2 / 3 }), [], 'clipped at 2')
  t.same(diff(scoreRouge('a a a', 'a a a').rouge2, { precision: 1, recall: 1, fmeasure: 1 }), [], 'repeated bigram')
})

t.test('rougeLsum matches sentences in any order; rougeL does not', async (t) => {
  const s = scoreRouge('a b c\nd e f', 'd e f\na b c')
  t.same(diff(s.rougeL, { precision: 0.5, recall: 0.5, fmeasure: 0.5 }), [], 'rougeL sees one order')
  t.same(diff(s.rougeLsum, { precision: 1, recall: 1, fmeasure: 1 }), [], 'rougeLsum is sentence-order free')
})

t.test('rougeLsum union LCS (ROUGE paper example) and the double-count guard', async (t) => {
  // union LCS of ref with both candidate sentences = a b c e
  t.same(diff(scoreRouge('a b c d e', 'a b f g h\na c h i e').rougeLsum, { precision: 0.4, recall: 0.8, fmeasure: fmeasure(0.4, 0.8) }), [], 'union')
  // each reference line matches "a b", but the prediction has only one a and one b to give
  t.same(diff(scoreRouge('a b\na b', 'a b').rougeLsum, { precision: 1, recall: 0.5, fmeasure: 2 / 3 }), [], 'guard')
})

t.test('stemming makes inflections match', async (t) => {
  t.equal(scoreRouge('the runner was running', 'runners run', { useStemmer: false }).rouge1.fmeasure, 0)
  t.same(diff(scoreRouge('he was running', 'he runs', { useStemmer: true }).rouge1, { precision: 1, recall: 2 / 3, fmeasure: 0.8 }), [], 'runs ~ running')
})

t.test('rouge type names follow rouge-score', async (t) => {
  t.ok(isRougeType('rouge1') && isRougeType('rouge9') && isRougeType('rougeL') && isRougeType('rougeLsum'))
  t.notOk(isRougeType('rouge0') || isRougeType('rouge10') || isRougeType('rougel') || isRougeType('bleu'))
  t.throws(() => new RougeScorer(['rougeX']), RangeError)
})

t.test('matches a direct port of rouge-score on random texts (many LCS ties)', async (t) => {
  const word = fc.constantFrom('a', 'b', 'c', 'the', 'Running', 'runs', 'dies', 'cat', 'x9', 'é', '.', ',', '\n', '\n\n', ' \n ')
  const text = fc.array(word, { maxLength: 30 }).map((ws) => ws.join(' '))
  const scorers = { true: new RougeScorer(TYPES, { useStemmer: true }), false: new RougeScorer(TYPES, { useStemmer: false }) }
  fc.assert(
    fc.property(text, text, fc.boolean(), (ref, pred, stem) => {
      const got = scorers[`${stem}`].score(ref, pred)
      const want = oracle(ref, pred, stem)
      for (const type of TYPES) {
        if (got[type].precision !== want[type].precision || got[type].recall !== want[type].recall || got[type].fmeasure !== want[type].fmeasure) {
          throw new Error(`${type}: got ${JSON.stringify(got[type])}, want ${JSON.stringify(want[type])}`)
        }
      }
    }),
    { numRuns: 2000, seed: 42 }
  )
  t.pass('2000 random pairs identical to the oracle')
})

t.test('long single-line texts (checkpointed LCS backtrack) match the oracle', async (t) => {
  // 1600 x 1600 tokens exceeds the whole-table limit, forcing row checkpoints.
  let state = 7
  const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648)
  const words = ['a', 'b', 'c', 'd']
  const make = (n: number): string => Array.from({ length: n }, () => words[next() % words.length]).join(' ')
  const ref = make(1600)
  const pred = make(1600) + '\n' + make(40)
  const got = scoreRouge(ref, pred, { rougeTypes: ['rougeL', 'rougeLsum'] })
  const want = oracle(ref, pred, false)
  t.same(got.rougeL, want.rougeL)
  t.same(got.rougeLsum, want.rougeLsum)
})
