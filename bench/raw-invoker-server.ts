// `node dist/bench/raw-invoker-server.js`: the gateway in local mode exactly as
// src/server.ts starts it, except that payloads go out through createRawInvoker.
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { startLocalStack } from '../src/local/stack.js'
import { createRawInvoker } from './raw-invoker.js'

const config = loadConfig()
const local = await startLocalStack(config, { sagemakerPort: config.LOCAL_SAGEMAKER_PORT, s3Port: config.LOCAL_S3_PORT })
const app = await buildApp(config, { aws: local.awsTarget, invoke: createRawInvoker(local.awsTarget.sagemakerEndpoint as string, config.MAX_CONCURRENT_INVOCATIONS + 2) })
await app.listen({ port: config.PORT, host: '127.0.0.1' })
process.on('SIGTERM', () => { void app.close().then(async () => { await local.close() }).then(() => process.exit(0)) })
