// `npm run docs:config`: rewrites the configuration table in README.md (in the current
// folder, the repo root under npm) from the config schema.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { withConfigTable } from '../config-table.js'

const path = join(process.cwd(), 'README.md')
await writeFile(path, withConfigTable(await readFile(path, 'utf8')))
