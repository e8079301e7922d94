// NLTK's PorterStemmer in its default NLTK_EXTENSIONS mode, ported rule for rule from
// nltk/stem/porter.py (the 3.2.2+ rewrite). rouge-score calls `PorterStemmer().stem(token)`
// on already lowercased [a-z0-9]+ tokens, so only that input domain has to match exactly;
// the structure below mirrors NLTK's so a reviewer can diff the two line by line.

/** NLTK's irregular forms: word -> stem, bypassing the algorithm (NLTK_EXTENSIONS only). */
const IRREGULAR_FORMS: ReadonlyMap<string, string> = new Map([
  ['sky', 'sky'],
  ['skies', 'sky'],
  ['dying', 'die'],
  ['lying', 'lie'],
  ['tying', 'tie'],
  ['news', 'news'],
  ['innings', 'inning'],
  ['inning', 'inning'],
  ['outings', 'outing'],
  ['outing', 'outing'],
  ['cannings', 'canning'],
  ['canning', 'canning'],
  ['howe', 'howe'],
  ['proceed', 'proceed'],
  ['exceed', 'exceed'],
  ['succeed', 'succeed']
])

type Condition = ((stem: string) => boolean) | null
/** [suffix, replacement, condition]; suffix '*d' means "ends in a double consonant". */
type Rule = readonly [string, string, Condition]

function isVowelLetter (c: number): boolean {
  // a e i o u
  return c === 97 || c === 101 || c === 105 || c === 111 || c === 117
}

/** True when word[i] is a consonant in Porter's sense (y after a consonant is a vowel). */
function isConsonant (word: string, i: number): boolean {
  // Iterative form of NLTK's recursion: a run of y's alternates consonant/vowel.
  let consonant = true
  let k = i
  while (true) {
    const c = word.charCodeAt(k)
    if (isVowelLetter(c)) {
      consonant = false
      break
    }
    if (c !== 121 /* y */ || k === 0) {
      consonant = true
      break
    }
    k--
  }
  // Each y between k and i flips the answer once.
  return (i - k) % 2 === 0 ? consonant : !consonant
}

/** Porter's m: the number of vowel->consonant transitions ("vc" pairs) in stem. */
function measure (stem: string): number {
  let m = 0
  let prevVowel = false
  for (let i = 0; i < stem.length; i++) {
    const consonant = isConsonant(stem, i)
    if (consonant && prevVowel) m++
    prevVowel = !consonant
  }
  return m
}

function hasPositiveMeasure (stem: string): boolean {
  return measure(stem) > 0
}

function measureGreaterThanOne (stem: string): boolean {
  return measure(stem) > 1
}

function containsVowel (stem: string): boolean {
  for (let i = 0; i < stem.length; i++) {
    if (!isConsonant(stem, i)) return true
  }
  return false
}

/** Porter's *d. */
function endsDoubleConsonant (word: string): boolean {
  const n = word.length
  return n >= 2 && word.charCodeAt(n - 1) === word.charCodeAt(n - 2) && isConsonant(word, n - 1)
}

/** Porter's *o, plus NLTK's two-letter vowel-consonant case. */
function endsCvc (word: string): boolean {
  const n = word.length
  if (n >= 3 && isConsonant(word, n - 3) && !isConsonant(word, n - 2) && isConsonant(word, n - 1)) {
    const last = word[n - 1]
    if (last !== 'w' && last !== 'x' && last !== 'y') return true
  }
  return n === 2 && !isConsonant(word, 0) && isConsonant(word, 1)
}

/** NLTK's _apply_rule_list: the first rule whose suffix matches decides, even if its condition fails. */
function applyRuleList (word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d' && endsDoubleConsonant(word)) {
      const stem = word.slice(0, -2)
      return condition === null || condition(stem) ? stem + replacement : word
    }
    if (word.endsWith(suffix)) {
      const stem = suffix === '' ? word : word.slice(0, -suffix.length)
      return condition === null || condition(stem) ? stem + replacement : word
    }
  }
  return word
}

const STEP1A_RULES: readonly Rule[] = [
  ['sses', 'ss', null],
  ['ies', 'i', null],
  ['ss', 'ss', null],
  ['s', '', null]
]

function step1a (word: string): string {
  // NLTK: 'dies' -> 'die' but 'flies' -> 'fli'.
  if (word.endsWith('ies') && word.length === 4) return word.slice(0, -3) + 'ie'
  return applyRuleList(word, STEP1A_RULES)
}

function step1b (word: string): string {
  // NLTK: 'died' -> 'die' but 'spied' -> 'spi'; either way step 1b ends here.
  if (word.endsWith('ied')) {
    return word.slice(0, -3) + (word.length === 4 ? 'ie' : 'i')
  }
  if (word.endsWith('eed')) {
    const stem = word.slice(0, -3)
    return measure(stem) > 0 ? stem + 'ee' : word
  }
  let intermediate: string | null = null
  for (const suffix of ['ed', 'ing']) {
    if (word.endsWith(suffix)) {
      const candidate = word.slice(0, -suffix.length)
      if (containsVowel(candidate)) {
        intermediate = candidate
        break
      }
    }
  }
  if (intermediate === null) return word
  const stem = intermediate
  const last = stem.length > 0 ? stem[stem.length - 1] : ''
  return applyRuleList(stem, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', last, () => last !== 'l' && last !== 's' && last !== 'z'],
    ['', 'e', (s) => measure(s) === 1 && endsCvc(s)]
  ])
}

function step1cCondition (stem: string): boolean {
  // NLTK: y -> i only after a consonant that is not the whole stem ('happy' -> 'happi', 'enjoy' stays).
  return stem.length > 1 && isConsonant(stem, stem.length - 1)
}

const STEP1C_RULES: readonly Rule[] = [['y', 'i', step1cCondition]]

const STEP2_RULES: readonly Rule[] = [
  ['ational', 'ate', hasPositiveMeasure],
  ['tional', 'tion', hasPositiveMeasure],
  ['enci', 'ence', hasPositiveMeasure],
  ['anci', 'ance', hasPositiveMeasure],
  ['izer', 'ize', hasPositiveMeasure],
  // NLTK/Martin departure: 'bli' rather than the paper's 'abli'.
  ['bli', 'ble', hasPositiveMeasure],
  ['alli', 'al', hasPositiveMeasure],
  ['entli', 'ent', hasPositiveMeasure],
  ['eli', 'e', hasPositiveMeasure],
  ['ousli', 'ous', hasPositiveMeasure],
  ['ization', 'ize', hasPositiveMeasure],
  ['ation', 'ate', hasPositiveMeasure],
  ['ator', 'ate', hasPositiveMeasure],
  ['alism', 'al', hasPositiveMeasure],
  ['iveness', 'ive', hasPositiveMeasure],
  ['fulness', 'ful', hasPositiveMeasure],
  ['ousness', 'ous', hasPositiveMeasure],
  ['aliti', 'al', hasPositiveMeasure],
  ['iviti', 'ive', hasPositiveMeasure],
  ['biliti', 'ble', hasPositiveMeasure],
  // NLTK extensions, appended after the published rules (order matters: first match wins).
  ['fulli', 'ful', hasPositiveMeasure],
  // 'logi' -> 'log' measured with the 'l' kept in the stem, so 'geologi' -> 'geolog'.
  ['logi', 'log', (stem) => hasPositiveMeasure(stem + 'l')]
]

function step2 (word: string): string {
  // NLTK applies ALLI -> AL first and, if it fires, runs step 2 again on the result.
  if (word.endsWith('alli') && hasPositiveMeasure(word.slice(0, -4))) {
    return step2(word.slice(0, -4) + 'al')
  }
  return applyRuleList(word, STEP2_RULES)
}

const STEP3_RULES: readonly Rule[] = [
  ['icate', 'ic', hasPositiveMeasure],
  ['ative', '', hasPositiveMeasure],
  ['alize', 'al', hasPositiveMeasure],
  ['iciti', 'ic', hasPositiveMeasure],
  ['ical', 'ic', hasPositiveMeasure],
  ['ful', '', hasPositiveMeasure],
  ['ness', '', hasPositiveMeasure]
]

const STEP4_RULES: readonly Rule[] = [
  ['al', '', measureGreaterThanOne],
  ['ance', '', measureGreaterThanOne],
  ['ence', '', measureGreaterThanOne],
  ['er', '', measureGreaterThanOne],
  ['ic', '', measureGreaterThanOne],
  ['able', '', measureGreaterThanOne],
  ['ible', '', measureGreaterThanOne],
  ['ant', '', measureGreaterThanOne],
  ['ement', '', measureGreaterThanOne],
  ['ment', '', measureGreaterThanOne],
  ['ent', '', measureGreaterThanOne],
  ['ion', '', (stem) => measure(stem) > 1 && (stem.endsWith('s') || stem.endsWith('t'))],
  ['ou', '', measureGreaterThanOne],
  ['ism', '', measureGreaterThanOne],
  ['ate', '', measureGreaterThanOne],
  ['iti', '', measureGreaterThanOne],
  ['ous', '', measureGreaterThanOne],
  ['ive', '', measureGreaterThanOne],
  ['ize', '', measureGreaterThanOne]
]

function step5a (word: string): string {
  // Both E rules are tried (unlike _apply_rule_list), as in NLTK.
  if (word.endsWith('e')) {
    const stem = word.slice(0, -1)
    const m = measure(stem)
    if (m > 1) return stem
    if (m === 1 && !endsCvc(stem)) return stem
  }
  return word
}

function step5b (word: string): string {
  // (m > 1 and *d and *L) -> single letter, measured on the word minus one 'l'.
  if (word.endsWith('ll') && measure(word.slice(0, -1)) > 1) return word.slice(0, -1)
  return word
}

/** Stems one word exactly as nltk.stem.PorterStemmer().stem(word) (NLTK_EXTENSIONS mode). */
export function porterStem (word: string): string {
  const lower = word.toLowerCase()
  // NLTK looks the unlowered word up (pool keys are lowercase, so only lowercase words hit).
  const irregular = IRREGULAR_FORMS.get(word)
  if (irregular !== undefined) return irregular
  if (word.length <= 2) return lower
  let stem = step1a(lower)
  stem = step1b(stem)
  stem = applyRuleList(stem, STEP1C_RULES)
  stem = step2(stem)
  stem = applyRuleList(stem, STEP3_RULES)
  stem = applyRuleList(stem, STEP4_RULES)
  stem = step5a(stem)
  stem = step5b(stem)
  return stem
}
