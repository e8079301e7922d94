// The resources every local stack has: the built-in model (what the gateway's jobs use by
// default) and the InService endpoint that serves it under the same name, with its endpoint
// config. The runtime answers InvokeEndpoint on that name whatever the control plane holds
// (stack.ts); here it becomes describable like any endpoint, so the gateway lists and describes
// it through DescribeEndpoint as an endpoint it did not deploy (SAGEMAKER_ENDPOINT_NAME in AWS).

import { keyOf, type EndpointConfigRecord, type EndpointRecord, type ModelRecord, type ResourceStore } from './resource-store.js'

/** The variant of the built-in endpoint (SageMaker's default name, as the runtime reports it). */
const VARIANT = 'AllTraffic'
/**
 * The built-in endpoint's instance type: the SageMaker Python SDK's name for local mode. No
 * price table has it, so no cost is estimated for it.
 */
const LOCAL_INSTANCE_TYPE = 'local'

/**
 * The built-in model's container as DescribeModel shows it: JumpStart FLAN-T5 1.x's (the Hugging
 * Face inference image running JumpStart's inference.py), the list contract the runtime serves
 * it by, so the gateway detects its contract as it would on AWS.
 */
const BUILT_IN_CONTAINER = {
  Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04',
  Mode: 'SingleModel',
  Environment: { SAGEMAKER_PROGRAM: 'inference.py' }
}

/** The image data directories written before BUILT_IN_CONTAINER gave the built-in model. */
const LEGACY_IMAGE = 'local/extractive-lead:latest'

/** The built-in model every fresh local stack has. */
export function builtInModel (name: string, arn: string, now: number): ModelRecord {
  return {
    name,
    arn,
    createdAt: now,
    spec: {
      PrimaryContainer: { ...BUILT_IN_CONTAINER, Environment: { ...BUILT_IN_CONTAINER.Environment } },
      ExecutionRoleArn: 'arn:aws:iam::000000000000:role/local-sagemaker',
      EnableNetworkIsolation: false
    }
  }
}

/** Gives a built-in model stored with the legacy image BUILT_IN_CONTAINER; returns whether it changed it. */
export function upgradeBuiltInModel (store: ResourceStore, name: string): boolean {
  const model = store.doc.models[keyOf(name)]
  const container = model?.spec.PrimaryContainer as { Image?: string } | undefined
  if (model === undefined || container?.Image !== LEGACY_IMAGE) return false
  model.spec = { ...model.spec, PrimaryContainer: { ...BUILT_IN_CONTAINER, Environment: { ...BUILT_IN_CONTAINER.Environment } } }
  return true
}

/**
 * Adds the built-in endpoint `name` and its endpoint config (same name, one variant of the
 * model `name`) when the store has no endpoint of that name: a new data directory, or one
 * written before the endpoint was describable. Returns whether it added them.
 */
export function ensureBuiltInEndpoint (store: ResourceStore, name: string, arn: (kind: string, name: string) => string): boolean {
  if (store.doc.endpoints[keyOf(name)] !== undefined) return false
  const config: EndpointConfigRecord = {
    name,
    arn: arn('endpoint-config', name),
    // epoch 0: the built-in resources have always existed, and list after everything created
    createdAt: 0,
    spec: { ProductionVariants: [{ VariantName: VARIANT, ModelName: name, InstanceType: LOCAL_INSTANCE_TYPE, InitialInstanceCount: 1 }] }
  }
  const endpoint: EndpointRecord = {
    name,
    arn: arn('endpoint', name),
    configName: name,
    status: 'InService',
    createdAt: 0,
    modifiedAt: 0,
    instances: { [VARIANT]: 1 }
  }
  store.doc.endpointConfigs[keyOf(name)] ??= config
  store.doc.endpoints[keyOf(name)] = endpoint
  // tagged as an operator tags an endpoint for the gateway: its capacity ledger
  // (src/endpoints/tags.ts, t2t:billed-*) held at zero, since a local endpoint runs on no billed
  // instance. Written out, not imported: the local stack imports nothing of the services above
  // it (test/endpoints/unmanaged.test.ts checks the gateway reads them so)
  store.doc.tags[endpoint.arn] = [
    { Key: 't2t:billed-instance-seconds', Value: '0' },
    { Key: 't2t:billed-count', Value: '1' }
  ]
  return true
}
