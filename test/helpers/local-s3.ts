import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalS3, type LocalS3 } from '../../src/local/s3.js'

interface Teardown { teardown: (fn: () => Promise<void> | void) => void }

/** The local S3 alone, in a temp directory, torn down with the test. */
export async function localS3 (t: Teardown): Promise<LocalS3> {
  const dir = await mkdtemp(join(tmpdir(), 't2t-s3-'))
  const s3 = await startLocalS3({ directory: dir })
  t.teardown(async () => {
    await s3.close()
    await rm(dir, { recursive: true, force: true })
  })
  return s3
}
