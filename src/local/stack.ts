import { join, resolve } from 'node:path'
import type { Config } from '../config.js'
import { LOCAL_MODEL_NAME } from '../config.js'
import { LOCAL_CREDENTIALS, type AwsTarget } from '../sagemaker/clients.js'
import { startLocalS3, type LocalS3 } from './s3.js'
import { startLocalSageMaker, type AwsJsonService, type LocalSageMaker } from './server.js'
import { LOCAL_REGION } from './wire.js'

/** The whole local stack: SageMaker (runtime + control plane) and S3, on loopback. */
export interface LocalStack {
  /** What the gateway's AWS SDK clients should point at. */
  awsTarget: AwsTarget
  sagemaker: LocalSageMaker
  s3: LocalS3
  close: () => Promise<void>
}

/** Knobs beyond the environment, for tests (injected randomness, a fixed port). */
export interface LocalStackOverrides {
  random?: () => number
  sagemakerPort?: number
  s3Port?: number
  /** Builds extra AWS JSON 1.1 services (the control plane) once S3 is up. */
  services?: (ctx: { awsTarget: AwsTarget, dataDir: string }) => AwsJsonService[]
}

/** Starts S3 (s3rver) and the local SageMaker with the LOCAL_* knobs from config. */
export async function startLocalStack (config: Config, overrides: LocalStackOverrides = {}): Promise<LocalStack> {
  const dataDir = resolve(config.LOCAL_DATA_DIR)
  const s3 = await startLocalS3({ directory: join(dataDir, 's3'), port: overrides.s3Port })
  const s3Target: AwsTarget = { region: LOCAL_REGION, s3Endpoint: s3.url, credentials: LOCAL_CREDENTIALS, bucket: s3.bucket }
  let sagemaker: LocalSageMaker
  try {
    sagemaker = await startLocalSageMaker({
      port: overrides.sagemakerPort,
      endpointNames: [LOCAL_MODEL_NAME],
      latencyBaseMs: config.LOCAL_LATENCY_BASE_MS,
      latencyPerItemMs: config.LOCAL_LATENCY_PER_ITEM_MS,
      maxConcurrency: config.LOCAL_MAX_CONCURRENCY,
      faultThrottleRate: config.LOCAL_FAULT_THROTTLE_RATE,
      faultErrorRate: config.LOCAL_FAULT_ERROR_RATE,
      faultModelErrorPattern: config.LOCAL_FAULT_MODEL_ERROR_PATTERN,
      random: overrides.random,
      jsonServices: overrides.services?.({ awsTarget: s3Target, dataDir }) ?? []
    })
  } catch (err) {
    await s3.close()
    throw err
  }
  return {
    awsTarget: { ...s3Target, sagemakerEndpoint: sagemaker.url },
    sagemaker,
    s3,
    close: async () => {
      await sagemaker.close()
      await s3.close()
    }
  }
}
