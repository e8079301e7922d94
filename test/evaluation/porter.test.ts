// Expected stems traced by hand through nltk/stem/porter.py (NLTK_EXTENSIONS mode).
import t from 'tap'
import { porterStem } from '../../src/evaluation/porter.js'

const CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['generously', 'gener', 'step1c y->i, step2 ousli->ous, step4 ous'],
  ['running', 'run', 'step1b ing then *d drops one n'],
  ['flies', 'fli', 'step1a ies->i (length 5)'],
  ['ties', 'tie', 'NLTK step1a: 4-letter ies->ie'],
  ['dies', 'die', 'NLTK step1a: 4-letter ies->ie'],
  ['died', 'die', 'NLTK step1b: 4-letter ied->ie'],
  ['spied', 'spi', 'NLTK step1b: longer ied->i'],
  ['dying', 'die', 'irregular-form pool'],
  ['lying', 'lie', 'irregular-form pool'],
  ['sky', 'sky', 'irregular-form pool'],
  ['skies', 'sky', 'irregular-form pool'],
  ['news', 'news', 'irregular-form pool (else step1a would give "new")'],
  ['innings', 'inning', 'irregular-form pool'],
  ['exceed', 'exceed', 'irregular-form pool'],
  ['ponies', 'poni', 'step1a ies->i'],
  ['caresses', 'caress', 'step1a sses->ss'],
  ['agreed', 'agre', 'step1b eed->ee (m>0), step5a drops e (m=1, not *o)'],
  ['agreement', 'agreement', 'step4 ement matches first but m("agre")=1 stops the rule list'],
  ['meetings', 'meet', 'step1a s, step1b ing'],
  ['studying', 'studi', 'step1b ing keeps "study", step1c y->i'],
  ['happiness', 'happi', 'step3 ness'],
  ['relational', 'relat', 'step2 ational->ate, step5a e'],
  ['conditional', 'condit', 'step2 tional->tion, step4 ion after t'],
  ['university', 'univers', 'step1c, step4 iti'],
  ['generalization', 'gener', 'step2 ization, step3 alize, step4 al'],
  ['oscillators', 'oscil', 'step2 ator, step4 ate, step5b ll->l'],
  ['controlling', 'control', '*d keeps ll, step5b removes one l'],
  ['hopeful', 'hope', 'step3 ful; step5a keeps e after cvc'],
  ['geology', 'geolog', 'NLTK logi->log measured with the l kept'],
  ['succeeded', 'succeed', 'step1b ed; m=2 so no e restored'],
  ['1990s', '1990', 'digits count as consonants'],
  ['hiss', 'hiss', 'ss is kept by step1a']
]

t.test('porterStem matches NLTK PorterStemmer (NLTK_EXTENSIONS)', async (t) => {
  for (const [word, stem, why] of CASES) t.equal(porterStem(word), stem, `${word} -> ${stem} (${why})`)
})

t.test('words of one or two letters are returned lowercased, unstemmed', async (t) => {
  t.equal(porterStem('is'), 'is')
  t.equal(porterStem('As'), 'as')
})
