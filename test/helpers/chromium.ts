import { access, constants } from 'node:fs/promises'
import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium (apt-get install chromium); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Headless, sandbox-free (root in a container) and quiet: no background traffic of its own. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

/** Why browser tests cannot run here (a skip message), or false when Chromium is there. */
export async function chromiumUnavailable (): Promise<string | false> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK)
    return false
  } catch {
    return `no Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`
  }
}

/** Launches Chromium through playwright-core with CHROMIUM_ARGS plus `extraArgs`; close it in the test's teardown. */
export async function launchChromium (extraArgs: string[] = []): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 60_000 })
}
