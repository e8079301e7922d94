/**
 * The SageMaker-compatible local stack the gateway starts without AWS settings: the runtime
 * (InvokeEndpoint), the control plane (control-plane/, one module per resource; built-in.ts the
 * flan-t5-local model and InService endpoint every stack has), the job
 * runner and its parts, the emulated JumpStart container they share (container.ts), S3
 * (s3rver) and the extractive engine standing in for FLAN-T5.
 */
export { startLocalStack, type LocalStack } from './stack.js'
