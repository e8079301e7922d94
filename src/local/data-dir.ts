import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** LOCAL_DATA_DIR cannot be written: the message names the directory, the process's ids and the fix. */
export class DataDirError extends Error {}

/** Errors that mean "not yours to write" (permissions, a read-only mount), as opposed to a broken path. */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS'])

/**
 * Creates `dir` if needed and proves it writable by writing and removing a file, so a volume
 * this user cannot write (a root-owned bind mount; OpenShift's random uid in group 0) stops the
 * boot with what to do rather than a stack from deep inside the local stack.
 */
export async function ensureWritableDataDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
    const probe = join(dir, `.write-test-${process.pid}`)
    await writeFile(probe, '')
    await rm(probe)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    if (!NOT_WRITABLE.has(code)) throw err
    const uid = process.getuid?.() ?? '?'
    const gid = process.getgid?.() ?? '?'
    throw new DataDirError(`LOCAL_DATA_DIR ${dir} is not writable by this process (uid ${uid}, gid ${gid}; ${code}); local mode keeps its S3 objects and job state there. ` +
      `Make it writable by this user: for a bind mount, \`chown -R ${uid} <host folder>\`; for a random uid in group 0 (OpenShift), \`chgrp -R 0 <folder> && chmod -R g+rwX <folder>\`; ` +
      'or mount a writable volume there (the container image\'s is /data), or point LOCAL_DATA_DIR elsewhere', { cause: err })
  }
}
