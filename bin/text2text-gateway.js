#!/usr/bin/env node
// Thin launcher for the compiled CLI (npm ci builds it through the `prepare` script).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('text2text-gateway: not built yet; run "npm run build" in the package folder\n')
  process.exit(1)
}
const { main } = await import(entry.href)
const code = await main(process.argv.slice(2))
if (code >= 0) process.exitCode = code
