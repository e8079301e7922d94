// Shared by the control-plane and job-runner tests: a local stack with the real SageMaker and
// S3 SDK clients pointed at it, and the CreateTransformJob input the gateway itself sends.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import type { CreateTransformJobCommandInput, SageMakerClient } from '@aws-sdk/client-sagemaker'
import { LOCAL_MODEL_NAME, testConfig, type Config } from '../../src/config.js'
import { LOCAL_BUCKET } from '../../src/local/s3.js'
import { startLocalStack, type LocalStack, type LocalStackOverrides } from '../../src/local/stack.js'
import { createControlClient, createS3Client } from '../../src/sagemaker/clients.js'

export type Overrides = Partial<Record<keyof Config, string | number | boolean>>

/** The part of a tap test these helpers use. */
export interface Teardown {
  teardown: (fn: () => unknown) => void
}

/** A running local stack and the SDK clients pointed at it. */
export interface LocalClients {
  stack: LocalStack
  sm: SageMakerClient
  s3: S3Client
  /** Closes clients and stack; idempotent (also runs in teardown). */
  close: () => Promise<void>
}

/** A fresh data dir, removed in teardown (after the stack over it has closed). */
export async function tempDir (t: Teardown, prefix = 't2t-jobs-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A stack over `dir` (a stopped job is Stopping for 50 ms); closed in teardown unless closed before. */
export async function openLocalStack (t: Teardown, dir: string, overrides: Overrides = {}, stackOverrides: LocalStackOverrides = {}): Promise<LocalClients> {
  const stack = await startLocalStack(testConfig({ LOCAL_DATA_DIR: dir, ...overrides }), { controlPlane: { stoppingMs: 50 }, ...stackOverrides })
  const sm = createControlClient(stack.awsTarget)
  const s3 = createS3Client(stack.awsTarget)
  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closed ??= (async () => {
      sm.destroy()
      s3.destroy()
      await stack.close()
    })()
    await closed
  }
  t.teardown(close)
  return { stack, sm, s3, close }
}

/** CreateTransformJob input shaped as the gateway sends it, over keys of the local bucket. */
export function transformJobInput (name: string, input: string, output: string, extra: Partial<CreateTransformJobCommandInput> = {}): CreateTransformJobCommandInput {
  return {
    TransformJobName: name,
    ModelName: LOCAL_MODEL_NAME,
    BatchStrategy: 'MultiRecord',
    TransformInput: {
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${LOCAL_BUCKET}/${input}` } },
      ContentType: 'application/jsonlines',
      SplitType: 'Line'
    },
    TransformOutput: { S3OutputPath: `s3://${LOCAL_BUCKET}/${output}`, Accept: 'application/jsonlines', AssembleWith: 'Line' },
    TransformResources: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1 },
    ...extra
  }
}
