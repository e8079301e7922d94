// ROUGE-N, ROUGE-L and ROUGE-Lsum exactly as Google's rouge-score (rouge/rouge_scorer.py)
// computes them, on interned token ids. Every division and the F-measure use the same
// operands in the same order as the Python, so results are bit-identical doubles.
import { Tokenizer, type TokenizedText } from './tokenize.js'

/** Precision, recall and F-measure of one ROUGE type, each in [0, 1]. */
export interface Score {
  precision: number
  recall: number
  fmeasure: number
}

/** The types API.md names; any rouge1..rouge9 is also accepted, as in rouge-score. */
export const DEFAULT_ROUGE_TYPES: readonly string[] = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']

type ParsedType = { kind: 'ngram'; n: number } | { kind: 'lcs' } | { kind: 'lsum' }

/** Parses a rouge-score type name (rouge1..rouge9, rougeL, rougeLsum); null if unknown. */
function parseRougeType (type: string): ParsedType | null {
  if (type === 'rougeL') return { kind: 'lcs' }
  if (type === 'rougeLsum') return { kind: 'lsum' }
  // rouge-score: re.match(r"rouge[0-9]$") and n > 0
  const m = /^rouge([1-9])$/.exec(type)
  return m === null ? null : { kind: 'ngram', n: Number(m[1]) }
}

/** True when rouge-score accepts this type name. */
export function isRougeType (type: string): boolean {
  return parseRougeType(type) !== null
}

/** rouge-score's scoring.fmeasure: harmonic mean, 0 when precision + recall is 0. */
export function fmeasure (precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
}

const ZERO: Readonly<Score> = Object.freeze({ precision: 0, recall: 0, fmeasure: 0 })

function zero (): Score {
  return { ...ZERO }
}

// Largest DP table (cells) kept whole for an LCS backtrack: 2^21 Int32 cells = 8 MiB.
// Larger sentence pairs use row checkpoints so memory stays O(sqrt(rows) * cols).
const MAX_TABLE_CELLS = 1 << 21
// 2^53: numeric n-gram keys must stay exact doubles.
const MAX_SAFE_KEY_SPACE = 2 ** 53

/** Scores reference/prediction pairs for a fixed list of ROUGE types, reusing scratch buffers. */
export class RougeScorer {
  readonly rougeTypes: readonly string[]
  readonly tokenizer: Tokenizer
  private readonly parsed: readonly ParsedType[]

  // Scratch indexed by token id; all zero between calls (each user resets what it touched).
  private countsA = new Int32Array(0)
  private countsB = new Int32Array(0)
  // Token id -> local dense id + 1 for n >= 2 keys; zero between calls.
  private localIds = new Int32Array(0)
  private readonly ngramCounts = new Map<number, number>()
  private readonly ngramCountsByString = new Map<string, number>()
  // One DP row for LCS length, a DP block and its row checkpoints for backtracking.
  private row = new Int32Array(0)
  private block = new Int32Array(0)
  private checkpoints = new Int32Array(0)
  // Union-LCS membership per reference-sentence position; zero between sentences.
  private marks = new Uint8Array(0)

  /** Builds a scorer; throws RangeError on a type rouge-score would reject. */
  constructor (
    rougeTypes: readonly string[] = DEFAULT_ROUGE_TYPES,
    options: { useStemmer?: boolean; tokenizer?: Tokenizer } = {}
  ) {
    const parsed: ParsedType[] = []
    for (const type of rougeTypes) {
      const p = parseRougeType(type)
      if (p === null) throw new RangeError(`Invalid rouge type: ${type}`)
      parsed.push(p)
    }
    this.rougeTypes = [...rougeTypes]
    this.parsed = parsed
    this.tokenizer = options.tokenizer ?? new Tokenizer(options.useStemmer ?? false)
  }

  /** Scores one prediction against its reference (rouge-score's score(target, prediction)). */
  score (reference: string, prediction: string): Record<string, Score> {
    return this.scoreTokenized(this.tokenizer.encode(reference), this.tokenizer.encode(prediction))
  }

  /** Scores texts already encoded by this scorer's tokenizer. */
  scoreTokenized (reference: TokenizedText, prediction: TokenizedText): Record<string, Score> {
    this.ensureVocabScratch()
    const result: Record<string, Score> = {}
    for (let k = 0; k < this.parsed.length; k++) {
      const p = this.parsed[k]
      let s: Score
      if (p.kind === 'ngram') s = this.rougeN(reference.ids, prediction.ids, p.n)
      else if (p.kind === 'lcs') s = this.rougeL(reference.ids, prediction.ids)
      else s = this.rougeLsum(reference, prediction)
      result[this.rougeTypes[k]] = s
    }
    return result
  }

  private ensureVocabScratch (): void {
    const size = this.tokenizer.size
    if (this.countsA.length < size) {
      // All zero by invariant, so fresh arrays lose nothing.
      const cap = Math.max(size, this.countsA.length * 2, 1024)
      this.countsA = new Int32Array(cap)
      this.countsB = new Int32Array(cap)
      this.localIds = new Int32Array(cap)
    }
  }

  /** rouge-score _score_ngrams over _create_ngrams: clipped n-gram overlap. */
  private rougeN (target: Int32Array, prediction: Int32Array, n: number): Score {
    const targetCount = Math.max(target.length - n + 1, 0)
    const predictionCount = Math.max(prediction.length - n + 1, 0)
    let overlap = 0
    if (targetCount > 0 && predictionCount > 0) {
      overlap = n === 1 ? this.unigramOverlap(target, prediction) : this.ngramOverlap(target, prediction, n)
    }
    const precision = overlap / Math.max(predictionCount, 1)
    const recall = overlap / Math.max(targetCount, 1)
    return { precision, recall, fmeasure: fmeasure(precision, recall) }
  }

  // sum over distinct unigrams of min(target count, prediction count)
  private unigramOverlap (target: Int32Array, prediction: Int32Array): number {
    const counts = this.countsA
    for (let i = 0; i < target.length; i++) counts[target[i]]++
    let overlap = 0
    for (let i = 0; i < prediction.length; i++) {
      const id = prediction[i]
      if (counts[id] > 0) {
        counts[id]--
        overlap++
      }
    }
    for (let i = 0; i < target.length; i++) counts[target[i]] = 0
    return overlap
  }

  private ngramOverlap (target: Int32Array, prediction: Int32Array, n: number): number {
    // Dense per-pair ids keep keys small: base = distinct tokens in this pair + 1.
    const local = this.localIds
    let next = 0
    for (let i = 0; i < target.length; i++) if (local[target[i]] === 0) local[target[i]] = ++next
    for (let i = 0; i < prediction.length; i++) if (local[prediction[i]] === 0) local[prediction[i]] = ++next
    const base = next + 1
    let overlap: number
    if (base ** n <= MAX_SAFE_KEY_SPACE) {
      const counts = this.ngramCounts
      for (let i = 0; i + n <= target.length; i++) {
        const key = numericKey(target, i, n, local, base)
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      overlap = 0
      for (let i = 0; i + n <= prediction.length; i++) {
        const key = numericKey(prediction, i, n, local, base)
        const c = counts.get(key)
        if (c !== undefined && c > 0) {
          counts.set(key, c - 1)
          overlap++
        }
      }
      counts.clear()
    } else {
      const counts = this.ngramCountsByString
      for (let i = 0; i + n <= target.length; i++) {
        const key = target.subarray(i, i + n).join(',')
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      overlap = 0
      for (let i = 0; i + n <= prediction.length; i++) {
        const key = prediction.subarray(i, i + n).join(',')
        const c = counts.get(key)
        if (c !== undefined && c > 0) {
          counts.set(key, c - 1)
          overlap++
        }
      }
      counts.clear()
    }
    for (let i = 0; i < target.length; i++) local[target[i]] = 0
    for (let i = 0; i < prediction.length; i++) local[prediction[i]] = 0
    return overlap
  }

  /** rouge-score _score_lcs: LCS length over whole texts. */
  private rougeL (target: Int32Array, prediction: Int32Array): Score {
    if (target.length === 0 || prediction.length === 0) return zero()
    const lcs = this.lcsLength(target, prediction)
    const precision = lcs / prediction.length
    const recall = lcs / target.length
    return { precision, recall, fmeasure: fmeasure(precision, recall) }
  }

  private lcsLength (ref: Int32Array, can: Int32Array): number {
    const cols = can.length
    if (this.row.length < cols + 1) this.row = new Int32Array(cols + 1)
    const row = this.row
    row.fill(0, 0, cols + 1)
    for (let i = 0; i < ref.length; i++) {
      const a = ref[i]
      // row[j] holds the previous DP row until overwritten; diag is previous row at j - 1
      let diag = 0
      let left = 0
      for (let j = 1; j <= cols; j++) {
        const up = row[j]
        const v = a === can[j - 1] ? diag + 1 : up > left ? up : left
        diag = up
        row[j] = v
        left = v
      }
    }
    return row[cols]
  }

  /** rouge-score _summary_level_lcs: union LCS per reference line with the token-count guard. */
  private rougeLsum (target: TokenizedText, prediction: TokenizedText): Score {
    const m = target.ids.length
    const n = prediction.ids.length
    // rouge-score returns 0 for no sentences or no tokens; token-less lines change nothing else.
    if (m === 0 || n === 0) return zero()
    const ref = target.ids
    const can = prediction.ids
    const cntR = this.countsA
    const cntC = this.countsB
    for (let i = 0; i < m; i++) cntR[ref[i]]++
    for (let i = 0; i < n; i++) cntC[can[i]]++

    let hits = 0
    const refLines = target.lineStarts
    const canLines = prediction.lineStarts
    for (let r = 0; r + 1 < refLines.length; r++) {
      const r0 = refLines[r]
      const r1 = refLines[r + 1]
      if (r1 === r0) continue
      if (this.marks.length < r1 - r0) this.marks = new Uint8Array(Math.max(r1 - r0, this.marks.length * 2))
      const marks = this.marks
      for (let c = 0; c + 1 < canLines.length; c++) {
        const c0 = canLines[c]
        const c1 = canLines[c + 1]
        if (c1 > c0) this.markLcs(ref, r0, r1, can, c0, c1, marks)
      }
      // Union of LCS positions in ascending order, as sorted(set().union(...)).
      for (let i = 0; i < r1 - r0; i++) {
        if (marks[i] === 0) continue
        marks[i] = 0
        const t = ref[r0 + i]
        if (cntC[t] > 0 && cntR[t] > 0) {
          hits++
          cntC[t]--
          cntR[t]--
        }
      }
    }
    for (let i = 0; i < m; i++) cntR[ref[i]] = 0
    for (let i = 0; i < n; i++) cntC[can[i]] = 0

    const recall = hits / m
    const precision = hits / n
    return { precision, recall, fmeasure: fmeasure(precision, recall) }
  }

  /**
   * Marks (relative to r0) the reference positions of the one LCS of ref[r0:r1] and
   * can[c0:c1] that rouge-score's _backtrack_norec reads out: diagonal on a match, else left
   * when T[i][j-1] > T[i-1][j], else up. The full table is kept when it fits in
   * MAX_TABLE_CELLS; otherwise every B-th row is checkpointed and each block of B rows is
   * recomputed as the backtrack (which only moves up) enters it.
   */
  private markLcs (ref: Int32Array, r0: number, r1: number, can: Int32Array, c0: number, c1: number, marks: Uint8Array): void {
    const rows = r1 - r0
    const cols = c1 - c0
    const width = cols + 1
    const blockRows =
      (rows + 1) * width <= MAX_TABLE_CELLS
        ? rows
        : Math.max(Math.ceil(Math.sqrt(rows)), Math.floor(MAX_TABLE_CELLS / width) - 1, 1)
    const blocks = Math.ceil(rows / blockRows)
    // block holds rows base..base+blockRows of the table; checkpoint k is row k*blockRows
    if (this.block.length < (blockRows + 1) * width) this.block = new Int32Array((blockRows + 1) * width)
    if (this.checkpoints.length < (blocks + 1) * width) this.checkpoints = new Int32Array((blocks + 1) * width)
    const block = this.block
    this.checkpoints.fill(0, 0, width)

    if (blocks > 1) this.fillCheckpoints(ref, r0, rows, can, c0, cols, blockRows)
    this.fillBlock(ref, r0, rows, can, c0, cols, blockRows, blocks - 1)
    let k = blocks - 1
    let base = k * blockRows
    let i = rows
    let j = cols
    while (i > 0 && j > 0) {
      if (i === base) {
        k--
        base -= blockRows
        this.fillBlock(ref, r0, rows, can, c0, cols, blockRows, k)
      }
      const li = i - base
      if (ref[r0 + i - 1] === can[c0 + j - 1]) {
        marks[i - 1] = 1
        i--
        j--
      } else if (block[li * width + j - 1] > block[(li - 1) * width + j]) {
        j--
      } else {
        i--
      }
    }
  }

  /** Saves DP rows blockRows, 2*blockRows, ... (below `rows`) as checkpoints, using one rolling row. */
  private fillCheckpoints (
    ref: Int32Array, r0: number, rows: number,
    can: Int32Array, c0: number, cols: number,
    blockRows: number
  ): void {
    const width = cols + 1
    if (this.row.length < width) this.row = new Int32Array(width)
    const row = this.row
    row.fill(0, 0, width)
    for (let i = 1; i < rows; i++) {
      const a = ref[r0 + i - 1]
      let diag = 0
      let left = 0
      for (let j = 1; j <= cols; j++) {
        const up = row[j]
        const v = a === can[c0 + j - 1] ? diag + 1 : up > left ? up : left
        diag = up
        row[j] = v
        left = v
      }
      if (i % blockRows === 0) this.checkpoints.set(row.subarray(0, width), (i / blockRows) * width)
    }
  }

  /** Computes DP rows k*blockRows+1 .. (k+1)*blockRows (capped at rows) into `block` from checkpoint k. */
  private fillBlock (
    ref: Int32Array, r0: number, rows: number,
    can: Int32Array, c0: number, cols: number,
    blockRows: number, k: number
  ): void {
    const width = cols + 1
    const block = this.block
    const checkpoints = this.checkpoints
    const base = k * blockRows
    const last = Math.min(base + blockRows, rows)
    block.set(checkpoints.subarray(k * width, (k + 1) * width), 0)
    for (let i = base + 1; i <= last; i++) {
      const a = ref[r0 + i - 1]
      const cur = (i - base) * width
      const prev = cur - width
      block[cur] = 0
      let left = 0
      for (let j = 1; j <= cols; j++) {
        let v: number
        if (a === can[c0 + j - 1]) {
          v = block[prev + j - 1] + 1
        } else {
          const up = block[prev + j]
          v = up > left ? up : left
        }
        block[cur + j] = v
        left = v
      }
    }
  }
}

function numericKey (ids: Int32Array, start: number, n: number, local: Int32Array, base: number): number {
  let key = 0
  for (let k = 0; k < n; k++) key = key * base + local[ids[start + k]]
  return key
}

/** Scores one pair of texts with a fresh scorer (convenience; reuse a RougeScorer for many pairs). */
export function scoreRouge (
  reference: string,
  prediction: string,
  options: { rougeTypes?: readonly string[]; useStemmer?: boolean } = {}
): Record<string, Score> {
  const scorer = new RougeScorer(options.rougeTypes ?? DEFAULT_ROUGE_TYPES, { useStemmer: options.useStemmer ?? false })
  return scorer.score(reference, prediction)
}
