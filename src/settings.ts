/**
 * What the gateway derives from its validated configuration, once at boot: buildApp computes it
 * and decorates it as `app.settings`, and the plugins and routes read it instead of parsing the
 * configuration again. loadConfig has already checked every value these come from (a bad one
 * stops the boot naming the variable); a bad PRICES_FILE stops buildApp.
 */
import type { BatcherSettings } from './batching/batcher.js'
import { endpointContracts, endpointNames, instanceLimits, isLocalMode, keyring, LOCAL_MODEL_NAME, queueMaxPerKey, tenantWeights, type Config } from './config.js'
import { loadPriceTable, type PriceTable } from './endpoints/prices.js'
import type { InstanceLimits } from './instance-limits.js'
import { SAGEMAKER_MAX_PAYLOAD_BYTES } from './sagemaker/rules.js'
import type { Keyring } from './tenants.js'
import type { ExplicitContractName } from './sagemaker/contracts/explicit.js'

/** Bytes a real-time JSON body may hold beyond the texts it carries (keys, prompt, parameters, escapes). */
export const BODY_ENVELOPE_BYTES = 64 * 1024

export interface Settings {
  /** `local`: no SAGEMAKER_ENDPOINT_NAME, the embedded local stack serves everything; else `aws`. */
  mode: 'local' | 'aws'
  /** API_KEYS and ADMIN_API_KEYS; none = auth off. */
  keyring: Keyring
  /** PRICES_FILE, or the built-in table: every usage estimate (jobs and endpoints) uses this one. */
  prices: PriceTable
  /** TENANT_INSTANCE_TYPES and the instance counts of tenants and admins. */
  instances: InstanceLimits
  /** SAGEMAKER_ENDPOINT_NAME's endpoints (the first is the default `model`), or the local model. */
  endpointNames: string[]
  /** The SageMaker model of transform jobs that name none: SAGEMAKER_MODEL_NAME, else the local model in local mode; undefined = the request must name one. */
  defaultJobModel: string | undefined
  /** ENDPOINT_CONTRACTS: endpoint name → the contract chosen for it (empty: every contract is detected). */
  endpointContracts: ReadonlyMap<string, ExplicitContractName>
  /** BATCH_*, QUEUE_*, TENANT_WEIGHTS, MAX_CONCURRENT_INVOCATIONS and RETRY_*, as the realtime plugin's MicroBatcher takes them. */
  batcher: BatcherSettings
  /**
   * Body limits of the real-time routes (bytes). One text (summarize) becomes one item, whose
   * payload may not exceed BATCH_MAX_BYTES; a list of inputs (generate, completions) is split
   * into items, so the body is bounded by SageMaker's payload ceiling instead.
   */
  bodyLimits: { oneText: number, inputList: number }
}

/** Derives the settings from a configuration loadConfig accepted; throws naming PRICES_FILE when it is unreadable. */
export function deriveSettings (config: Config): Settings {
  const mode = isLocalMode(config) ? 'local' : 'aws'
  return {
    mode,
    keyring: keyring(config),
    prices: loadPriceTable(config.PRICES_FILE),
    instances: instanceLimits(config),
    endpointNames: endpointNames(config),
    endpointContracts: endpointContracts(config),
    defaultJobModel: config.SAGEMAKER_MODEL_NAME ?? (mode === 'local' ? LOCAL_MODEL_NAME : undefined),
    batcher: {
      maxSize: config.BATCH_MAX_SIZE,
      maxWaitMs: config.BATCH_MAX_WAIT_MS,
      maxBytes: config.BATCH_MAX_BYTES,
      maxQueue: config.QUEUE_MAX_SIZE,
      maxQueuePerKey: queueMaxPerKey(config),
      tenantWeights: tenantWeights(config),
      maxConcurrent: config.MAX_CONCURRENT_INVOCATIONS,
      flushPolicy: config.BATCH_FLUSH_POLICY,
      retry: { maxAttempts: config.RETRY_MAX_ATTEMPTS, baseMs: config.RETRY_BASE_MS, capMs: config.RETRY_CAP_MS }
    },
    bodyLimits: { oneText: config.BATCH_MAX_BYTES + BODY_ENVELOPE_BYTES, inputList: SAGEMAKER_MAX_PAYLOAD_BYTES + BODY_ENVELOPE_BYTES }
  }
}
