import t from 'tap'
import { BATCHER_DEFAULTS } from '../src/batching/batcher.js'
import { GATEWAY_BATCHER_DEFAULTS, LOCAL_MODEL_NAME, testConfig } from '../src/config.js'
import { SAGEMAKER_MAX_PAYLOAD_BYTES } from '../src/sagemaker/rules.js'
import { BODY_ENVELOPE_BYTES, deriveSettings } from '../src/settings.js'

t.test('the gateway runs the batcher on its defaults, and the documented ones are those', async t => {
  const { batcher } = deriveSettings(testConfig())
  t.same(batcher, {
    maxSize: BATCHER_DEFAULTS.maxSize,
    maxWaitMs: BATCHER_DEFAULTS.maxWaitMs,
    maxBytes: GATEWAY_BATCHER_DEFAULTS.maxBytes,
    maxQueue: BATCHER_DEFAULTS.maxQueue,
    maxQueuePerKey: Math.ceil(BATCHER_DEFAULTS.maxQueue / 2),
    tenantWeights: new Map(),
    maxConcurrent: BATCHER_DEFAULTS.maxConcurrent,
    flushPolicy: 'learned',
    retry: { maxAttempts: BATCHER_DEFAULTS.retry.maxAttempts, baseMs: 25, capMs: BATCHER_DEFAULTS.retry.capMs }
  })
  t.ok(batcher.maxBytes < SAGEMAKER_MAX_PAYLOAD_BYTES, 'payloads stay under SageMaker\'s ceiling')
})

t.test('the real-time body limits are the payload bounds plus 64 KiB, as the routes wrote them out', async t => {
  t.same(deriveSettings(testConfig()).bodyLimits, { oneText: 5 * 1024 * 1024 + 64 * 1024, inputList: 6 * 1024 * 1024 + 64 * 1024 })
  t.same(deriveSettings(testConfig({ BATCH_MAX_BYTES: 4096 })).bodyLimits, { oneText: 4096 + BODY_ENVELOPE_BYTES, inputList: SAGEMAKER_MAX_PAYLOAD_BYTES + BODY_ENVELOPE_BYTES })
})

t.test('mode and the transform jobs\' default model are decided together', async t => {
  t.match(deriveSettings(testConfig()), { mode: 'local', defaultJobModel: LOCAL_MODEL_NAME, endpointNames: [LOCAL_MODEL_NAME] })
  t.match(deriveSettings(testConfig({ SAGEMAKER_ENDPOINT_NAME: 'a, b' })), { mode: 'aws', defaultJobModel: undefined, endpointNames: ['a', 'b'] })
  t.match(deriveSettings(testConfig({ SAGEMAKER_ENDPOINT_NAME: 'a', SAGEMAKER_MODEL_NAME: 'm' })), { mode: 'aws', defaultJobModel: 'm' })
})

t.test('the key ring is the configured one', async t => {
  t.equal(deriveSettings(testConfig()).keyring.enabled, false)
  const { keyring } = deriveSettings(testConfig({ API_KEYS: 'acme:k1', ADMIN_API_KEYS: 'ops:k2' }))
  t.same([keyring.identify('k1'), keyring.identify('k2'), keyring.identify('k3')], [{ id: 'acme', admin: false }, { id: 'ops', admin: true }, undefined])
})
