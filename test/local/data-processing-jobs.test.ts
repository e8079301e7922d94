// DataProcessing on a local transform job of JumpStart's list container (the built-in model),
// through the AWS SDK for JavaScript: the InputFilter picks the record out of each input line
// before the container, JoinSource Input wraps an input that is not an object as
// {"SageMakerInput", "SageMakerOutput"}, and a filter that does not fit a record fails the job
// naming it ("Associate Prediction Results with Input Records",
// https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html; API
// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html: "If you
// specify indexes that aren't within the dimension size of the joined dataset, you get an error").
import t from 'tap'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { CreateTransformJobCommand, DescribeTransformJobCommand, waitUntilTransformJobCompletedOrStopped } from '@aws-sdk/client-sagemaker'
import { LOCAL_BUCKET } from '../../src/local/s3.js'
import { openLocalStack, tempDir, transformJobInput } from '../helpers/local-sagemaker.js'

t.test('the list container with DataProcessing: InputFilter $[0], JoinSource Input on array lines, OutputFilter out of range fails the job', async t => {
  const dir = await tempDir(t, 't2t-dp-jobs-')
  const { sm, s3 } = await openLocalStack(t, dir)
  const rows = [
    [{ id: 'r1', text_inputs: 'The ferry left at noon. Nobody missed it.' }, 'meta-1'],
    [{ id: 'r2', text_inputs: 'The market closed early. Prices fell.' }, 'meta-2']
  ]
  await s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: 'dp/in/rows.jsonl', Body: rows.map(r => JSON.stringify(r)).join('\n') + '\n' }))

  await sm.send(new CreateTransformJobCommand(transformJobInput('dp-wrapped', 'dp/in/', 'dp/out-wrapped', {
    DataProcessing: { InputFilter: '$[0]', JoinSource: 'Input' }
  })))
  await waitUntilTransformJobCompletedOrStopped({ client: sm, maxWaitTime: 60, minDelay: 1 }, { TransformJobName: 'dp-wrapped' })
  const done = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'dp-wrapped' }))
  t.equal(done.TransformJobStatus, 'Completed', done.FailureReason ?? 'completed')
  const body = await (await s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key: 'dp/out-wrapped/rows.jsonl.out' }))).Body?.transformToString() ?? ''
  const lines = body.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { SageMakerInput: unknown, SageMakerOutput: { id: string, generated_texts: string[] } })
  t.same(lines.map(l => l.SageMakerInput), rows, 'the whole input line, not an object, under SageMakerInput')
  t.same(lines.map(l => l.SageMakerOutput.id), ['r1', 'r2'], 'the container saw the filtered record (its id included) and answered it')
  t.ok(lines.every(l => l.SageMakerOutput.generated_texts.length === 1))

  await sm.send(new CreateTransformJobCommand(transformJobInput('dp-out-of-range', 'dp/in/', 'dp/out-range', {
    DataProcessing: { InputFilter: '$[0]', JoinSource: 'Input', OutputFilter: '$.SageMakerInput[5]' }
  })))
  // the SDK's waiter rejects (its FAILURE state) on a Failed job, as it does against AWS
  await t.rejects(waitUntilTransformJobCompletedOrStopped({ client: sm, maxWaitTime: 60, minDelay: 1 }, { TransformJobName: 'dp-out-of-range' }), /FAILURE/)
  const failed = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'dp-out-of-range' }))
  t.equal(failed.TransformJobStatus, 'Failed')
  t.match(failed.FailureReason, /ClientError: .*Record id "r1" \(line 1 of s3:\/\/.*rows\.jsonl\): OutputFilter \$\.SageMakerInput\[5\] cannot be applied to the joined output: index 5 is outside an array of 2/)
})
