import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project root: the nearest directory above this module holding package.json. */
export function projectRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package.json not found')
    dir = parent
  }
  return dir
}

/** Path of a file in ../shared/data beside the project (read at run time, never committed). */
export function sharedData (...parts: string[]): string {
  return join(projectRoot(), '..', 'shared', 'data', ...parts)
}
