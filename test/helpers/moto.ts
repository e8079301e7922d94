// moto's server (`python3 -m moto.server`), an S3 and SageMaker emulator we did not write: an
// independent judge of what AWS answers. Skipped with a reason when moto is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../../bench/gateway-process.js'

/** Why moto cannot run here, or false when it can. */
export const motoMissing: string | false = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0
  ? false
  : 'python3 -m moto.server is not available (pip install "moto[server]")'

/** A running moto server on a free loopback port. */
export interface Moto { url: string, stop: () => Promise<void> }

/** Starts moto and waits (up to 30 s) until it answers. */
export async function startMoto (): Promise<Moto> {
  const port = await freePort()
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
    child.kill('SIGTERM')
    await exited
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${String(child.exitCode)}`)
    const up = await fetch(`${url}/moto-api/`).then(() => true, () => false)
    if (up) return { url, stop }
    await sleep(200)
  }
  await stop()
  throw new Error('moto did not answer within 30 s')
}
