/**
 * AWS adapters and codecs only, no service logic: the SDK clients, the real-time invoker and how
 * its errors steer the batcher, the AWS error shapes, SageMaker's names and limits, S3 I/O and
 * `s3://` URIs, JSON Lines, the Python-literal codec of HYPER_PARAMS, and the container
 * contracts (contracts/: what each kind of inference container takes and answers).
 */
export { createControlClient, createRuntimeClient, createS3Client, type AwsTarget } from './clients.js'
export { classifyInvokeError, createInvoker } from './runtime.js'
export { awsName, controlPlaneError, isResourceNotFound, isS3NotFound } from './aws-errors.js'
export { formatS3Uri, parseS3Uri, parseSageMakerS3Uri, S3AllowList, type S3Location } from './s3-uri.js'
export { parsePythonLiteral, toPythonLiteral } from './python-literal.js'
export { classifyContractError, detectContract, jumpstartList, lmiDynamic, lmiRolling, tgiContract, StreamFailure, type ContainerContract, type ContractName, type Detection, type StreamParser } from './contracts/index.js'
