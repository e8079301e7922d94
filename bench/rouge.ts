// ROUGE throughput on CNN/DailyMail: lead-3 predictions against the reference highlights for
// the 4,490-article test set, all four ROUGE types, with and without the Porter stemmer.
// Each configuration gets one warm-up and the best of three timed runs of evaluate(), which
// includes validation, tokenisation (and stemming) and scoring; reading the file does not count.
// Run: npx tsc -p tsconfig.build.json && node dist/bench/rouge.js
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { evaluate, type EvaluationItem } from '../src/evaluation/evaluate.js'
import { projectRoot } from './shared-data.js'

const ROUGE_TYPES = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']
const TIMED_RUNS = 3
const SENTENCE_END = new Set(['.', '!', '?'])

/** Timing and mean F-measures for one stemming setting. */
export interface RougeBenchRun {
  useStemmer: boolean
  /** Best of the timed runs, ms. */
  bestMs: number
  /** Every timed run, ms. */
  runsMs: number[]
  meanFmeasure: Record<string, number>
}

/** What runRougeBench measured. */
export interface RougeBenchResult {
  dataset: string
  pairs: number
  rougeTypes: string[]
  runs: RougeBenchRun[]
}

/**
 * The first `count` sentences of a lowercased, space-tokenised CNN/DailyMail article, one per
 * line. A sentence ends at a '.', '!' or '?' token; a '"' token right after it is taken into
 * the sentence when the sentence has an odd number of '"' (the quote closes, not opens).
 */
export function leadSentences (article: string, count = 3): string[] {
  const tokens = article.split(' ').filter((token) => token.length > 0)
  const sentences: string[] = []
  let current: string[] = []
  let quotes = 0
  for (let i = 0; i < tokens.length && sentences.length < count; i++) {
    const token = tokens[i]
    current.push(token)
    if (token === '"') quotes++
    if (!SENTENCE_END.has(token)) continue
    if (tokens[i + 1] === '"' && quotes % 2 === 1) {
      current.push(tokens[++i])
      quotes++
    }
    sentences.push(current.join(' '))
    current = []
    quotes = 0
  }
  if (sentences.length < count && current.length > 0) sentences.push(current.join(' '))
  return sentences
}

/** Reads the test set and builds lead-3 predictions and highlight references with shared ids. */
async function loadPairs (path: string): Promise<{ predictions: EvaluationItem[]; references: EvaluationItem[] }> {
  const predictions: EvaluationItem[] = []
  const references: EvaluationItem[] = []
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (line.trim() === '') continue
    const row = JSON.parse(line) as { id: number | string; article: string; highlights: string }
    predictions.push({ id: row.id, text: leadSentences(row.article).join('\n') })
    // highlights are already one sentence per line, as rougeLsum expects
    references.push({ id: row.id, text: row.highlights })
  }
  return { predictions, references }
}

/** Times evaluate() over the CNN/DailyMail test set; null (with a message) when the data is absent. */
export async function runRougeBench (options: { dataPath?: string; log?: (line: string) => void } = {}): Promise<RougeBenchResult | null> {
  const log = options.log ?? ((line: string) => console.log(line))
  const path = options.dataPath ?? resolve(projectRoot(), '../shared/data/cnn_dailymail/test-4490.jsonl')
  if (!existsSync(path)) {
    log(`rouge bench skipped: ${path} not found (shared data, never committed)`)
    return null
  }
  const { predictions, references } = await loadPairs(path)
  const runs: RougeBenchRun[] = []
  for (const useStemmer of [false, true]) {
    const request = { predictions, references, rougeTypes: ROUGE_TYPES, useStemmer }
    let result = evaluate(request) // warm-up
    const runsMs: number[] = []
    for (let run = 0; run < TIMED_RUNS; run++) {
      const start = performance.now()
      result = evaluate(request)
      runsMs.push(performance.now() - start)
    }
    const meanFmeasure: Record<string, number> = {}
    for (const type of ROUGE_TYPES) meanFmeasure[type] = result.scores[type].fmeasure
    const bestMs = Math.min(...runsMs)
    runs.push({ useStemmer, bestMs, runsMs, meanFmeasure })
    const scores = ROUGE_TYPES.map((type) => `${type} ${(100 * meanFmeasure[type]).toFixed(2)}`).join('  ')
    const timings = runsMs.map((ms) => ms.toFixed(0)).join(', ')
    log(`rouge ${references.length} pairs, stemmer ${useStemmer ? 'on ' : 'off'}: best ${bestMs.toFixed(0)} ms (runs ${timings})  F: ${scores}`)
  }
  return { dataset: path, pairs: references.length, rougeTypes: ROUGE_TYPES, runs }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runRougeBench().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
