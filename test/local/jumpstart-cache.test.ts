// Local mode's JumpStart content bucket: written at every stack start (a restart over the same
// data directory writes the same objects again), every spec_key of the manifest present, 1.x on
// the list container and 2.x on TGI, as the contracts' detection reads them
// (src/sagemaker/contracts/detect.ts: the judge of which contract an image speaks).
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { testConfig } from '../../src/config.js'
import { startLocalStack } from '../../src/local/stack.js'
import { createS3Client } from '../../src/sagemaker/clients.js'
import { detectContract } from '../../src/sagemaker/contracts/detect.js'
import { environmentOf, imageUri } from '../../src/jumpstart/specs.js'

async function getJson (s3: S3Client, key: string): Promise<{ text: string, json: unknown }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: 'jumpstart-cache-prod-us-east-1', Key: key }))
  const text = await out.Body?.transformToString('utf8') ?? ''
  return { text, json: JSON.parse(text) as unknown }
}

t.test('seeded at start, the same after a restart; each version in its contract', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 't2t-js-cache-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  const config = testConfig({ LOCAL_DATA_DIR: dataDir })
  const snapshots: Array<Map<string, string>> = []
  for (let start = 0; start < 2; start++) {
    const stack = await startLocalStack(config)
    const s3 = createS3Client(stack.awsTarget)
    try {
      const manifest = await getJson(s3, 'models_manifest.json')
      const entries = manifest.json as Array<{ model_id: string, version: string, min_version: string, spec_key: string }>
      t.equal(entries.length, 8, 'two models, four versions each')
      const seen = new Map([['models_manifest.json', manifest.text]])
      for (const e of entries) {
        const spec = await getJson(s3, e.spec_key)
        seen.set(e.spec_key, spec.text)
        const s = spec.json as Parameters<typeof imageUri>[0] & { usage_info_message: string }
        t.match(s, { model_id: e.model_id, version: e.version, usage_info_message: /local/i })
        const image = imageUri(s, 'us-east-1', 'ml.g5.2xlarge')
        const detected = detectContract({ Image: image, Environment: environmentOf(s, 'ml.g5.2xlarge') })
        t.equal(detected.known && detected.contract.name, e.version.startsWith('1.') ? 'jumpstart-list' : 'tgi', `${e.model_id} ${e.version}`)
      }
      snapshots.push(seen)
    } finally {
      s3.destroy()
      await stack.close()
    }
  }
  t.same([...snapshots[1]], [...snapshots[0]], 'a restart writes the same objects')
})
