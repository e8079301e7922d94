import t from 'tap'
import { controlPlaneError, isResourceNotFound } from '../../src/sagemaker/aws-errors.js'

t.test('SageMaker errors: not-found detection and client-safe wrapping', async t => {
  t.ok(isResourceNotFound({ name: 'ResourceNotFound', message: 'Could not find job' }))
  t.ok(isResourceNotFound({ name: 'ValidationException', message: 'Could not find requested job with name x' }))
  t.notOk(isResourceNotFound({ name: 'ValidationException', message: 'Value at transformJobName failed to satisfy constraint' }))
  const throttled = controlPlaneError('DescribeTransformJob', { name: 'ThrottlingException', message: 'Rate exceeded arn:aws:sagemaker:...' })
  t.equal(throttled.code, 'SAGEMAKER_UNAVAILABLE')
  t.equal(throttled.statusCode, 503)
  t.notMatch(throttled.message, /arn:aws/)
  const other = controlPlaneError('ListTransformJobs', { name: 'InternalFailure', message: 'boom at arn:aws:...' })
  t.equal(other.code, 'UPSTREAM_ERROR')
  t.equal(other.message, 'SageMaker ListTransformJobs failed')
})
