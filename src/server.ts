import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { isLocalMode, s3ForcePathStyle, loadConfig, type Config } from './config.js'
import type { AwsTarget } from './sagemaker/clients.js'
import { startLocalStack, type LocalStack } from './local/stack.js'
import { DataDirError } from './local/data-dir.js'

/** Entry point: config, the local stack when no AWS endpoint is set, listen, graceful close. */
async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    process.stderr.write(`text2text-gateway: ${(err as Error).message}\n`)
    process.exit(1)
  }
  let local: LocalStack | undefined
  let aws: AwsTarget
  if (isLocalMode(config)) {
    try {
      local = await startLocalStack(config, { sagemakerPort: config.LOCAL_SAGEMAKER_PORT, s3Port: config.LOCAL_S3_PORT })
    } catch (err) {
      if (!(err instanceof DataDirError)) throw err
      process.stderr.write(`text2text-gateway: ${err.message}\n`)
      process.exit(1)
    }
    aws = local.awsTarget
  } else {
    aws = { region: config.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1', forcePathStyle: s3ForcePathStyle(config) }
  }
  const app = await buildApp(config, { aws })
  const auth = app.settings.keyring.enabled
  // no keys means no auth: only the loopback interface is safe to bind then
  const host = config.HOST ?? (auth ? '0.0.0.0' : '127.0.0.1')
  if (!auth) {
    app.log.warn({ host }, 'API_KEYS is not set: /v1 routes are open to anyone who can reach this address')
  }
  if (local !== undefined) {
    app.log.info({ sagemaker: local.awsTarget.sagemakerEndpoint, s3: local.awsTarget.s3Endpoint, dataDir: config.LOCAL_DATA_DIR }, 'local mode: embedded SageMaker-compatible stack')
  }
  // the backstop: the drain itself ends SHUTDOWN_TIMEOUT_MS minus a reserve after the signal
  // (http/drain.ts); past the whole of it close-with-grace exits with code 1
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger: app.log }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'draining: finishing queued and in-flight work')
    app.lifecycle.state = 'draining'
    await app.close()
    await local?.close()
  })
  await app.listen({ port: config.PORT, host })
}

void main()
