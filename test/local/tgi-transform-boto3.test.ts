// boto3 against the local stack: a Batch Transform job on a TGI model (the image JumpStart
// FLAN-T5 2.x deploys) with DataProcessing, its output lines as "Associate Prediction Results
// with Input Records" documents them
// (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html: the
// container's answer under SageMakerOutput of the input record, the OutputFilter selecting from
// it), and filters outside the supported JSONPath subset refused by CreateTransformJob
// (test/local/tgi_transform.py).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { CreateModelCommand } from '@aws-sdk/client-sagemaker'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'
import { isolatedAwsEnv, runPython } from '../helpers/python.js'

const SCRIPT = fileURLToPath(new URL('./tgi_transform.py', import.meta.url))
const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'
const TGI_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu20.04'

const boto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' })
const skip = boto3.status === 0 ? false : 'python3 with boto3 is not available (apt-get install python3-boto3; .ci/run does)'

t.test('boto3: CreateTransformJob with DataProcessing on a TGI model, joined SageMakerOutput lines, bad JSONPath refused', { skip }, async t => {
  const dir = await tempDir(t, 't2t-tgi-transform-')
  const { stack, sm } = await openLocalStack(t, dir)
  await sm.send(new CreateModelCommand({ ModelName: 'flan-t5-tgi', PrimaryContainer: { Image: TGI_IMAGE, Environment: { MAX_INPUT_LENGTH: '1024' } }, ExecutionRoleArn: ROLE }))
  const env: Record<string, string> = {
    ...isolatedAwsEnv(dir),
    SAGEMAKER_ENDPOINT_URL: stack.awsTarget.sagemakerEndpoint ?? '',
    S3_ENDPOINT_URL: stack.awsTarget.s3Endpoint ?? '',
    BUCKET: stack.awsTarget.bucket ?? '',
    TGI_MODEL: 'flan-t5-tgi',
  }
  const run = await runPython(SCRIPT, env, 180_000)
  t.equal(run.code, 0, `tgi_transform.py exited ${String(run.code)}:\n${run.stdout}\n${run.stderr.slice(-3000)}`)
  const lines = run.stdout.split('\n').filter((l) => l !== '')
  t.notOk(lines.some((l) => l.startsWith('not ok')), lines.filter((l) => l.startsWith('not ok')).join('\n'))
  for (const check of [
    'each line is the OutputFilter\'s {id, SageMakerOutput}',
    'ids in input order, from the input (TGI does not echo them)',
    'SageMakerOutput is TGI\'s answer, a list of one generation',
    'each generation is its own record\'s',
    'max_new_tokens reached the container through the InputFilter',
    'JoinSource Input without OutputFilter: the whole input record, id and source included',
    'and the output is TGI\'s answer as written, in input order, with no id',
    'no job was created by a refusal'
  ]) t.ok(lines.includes(`ok - ${check}`), check)
  t.ok(lines.some((l) => l.startsWith('ok - deep scan refused at CreateTransformJob')), 'deep scan refused')
  t.ok(lines.some((l) => l.startsWith('ok - a filter over 63 characters refused')), 'length refused')
})
