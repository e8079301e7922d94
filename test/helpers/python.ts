// Running the Python scripts of the conformance tests (boto3, the official openai client).
import { execFile } from 'node:child_process'
import { join } from 'node:path'

/** What a script printed and how it exited. */
export interface PythonRun { code: number | null, stdout: string, stderr: string }

/** Runs `python3 script` with exactly `env` (plus no .pyc files); never rejects. */
export async function runPython (script: string, env: Record<string, string>, timeoutMs: number, cwd?: string): Promise<PythonRun> {
  return await new Promise((resolve) => {
    execFile('python3', [script], { env: { PYTHONDONTWRITEBYTECODE: '1', ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, ...(cwd !== undefined ? { cwd } : {}) }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

/**
 * boto3 pointed at the local stack and at nothing else: the stack's fixed credentials, config and
 * credentials files inside `dir` (so none of the machine's own are read), no instance metadata.
 */
export function isolatedAwsEnv (dir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true'
  }
}
