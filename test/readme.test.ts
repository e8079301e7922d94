import t from 'tap'
import { readFile } from 'node:fs/promises'
import { withConfigTable } from '../src/config-table.js'

t.test('the README configuration table is the one the config schema generates', async t => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  t.equal(readme, withConfigTable(readme), 'run `npm run docs:config` after changing src/config.ts')
})

t.test('the README first screen gives the install+start and install+test commands', async t => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const firstScreen = readme.split('\n').slice(0, 15).join('\n')
  t.match(firstScreen, /npm ci && npm start/)
  t.match(firstScreen, /npm ci && npm test/)
})
