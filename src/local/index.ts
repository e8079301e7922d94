/**
 * The SageMaker-compatible local stack the gateway starts without AWS settings: the runtime
 * (InvokeEndpoint), the control plane (control-plane/, one module per resource; built-in.ts the
 * flan-t5-local model and InService endpoint every stack has), the job
 * runner and its parts, the emulated JumpStart container they share (container.ts), the
 * emulated TGI container (tgi-container.ts) and InvokeEndpointWithResponseStream's event stream
 * (event-stream.ts), S3 (s3rver, with ListObjectsV2 answered in s3-list.ts) and the extractive
 * engine standing in for FLAN-T5.
 */
export { startLocalStack, type LocalStack } from './stack.js'
