import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { buildApp } from '../../src/app.js'
import { testConfig, type Config } from '../../src/config.js'
import { startLocalStack, type LocalStack, type LocalStackOverrides } from '../../src/local/stack.js'

type Overrides = Partial<Record<keyof Config, string | number | boolean>>

interface Teardown { teardown: (fn: () => Promise<void> | void) => void }

/** A gateway wired to a fresh local stack in a temp data dir, torn down with the test; `logStream` captures its logs. */
export async function localApp (t: Teardown, overrides: Overrides = {}, stackOverrides: LocalStackOverrides = {}, logStream?: DestinationStream): Promise<{ app: FastifyInstance, stack: LocalStack, config: Config, dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 't2t-test-'))
  const config = testConfig({ LOCAL_DATA_DIR: dataDir, ...overrides })
  const stack = await startLocalStack(config, stackOverrides)
  const app = await buildApp(config, { aws: stack.awsTarget, logStream })
  t.teardown(async () => {
    await app.close()
    await stack.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  await app.ready()
  return { app, stack, config, dataDir }
}

/** Same, listening on an ephemeral loopback port, for tests that need real sockets. */
export async function listeningApp (t: Teardown, overrides: Overrides = {}, stackOverrides: LocalStackOverrides = {}, logStream?: DestinationStream): Promise<{ app: FastifyInstance, stack: LocalStack, config: Config, url: string }> {
  const ctx = await localApp(t, overrides, stackOverrides, logStream)
  const address = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  return { ...ctx, url: address }
}
