// The local stack's built-in model describes the container it is served as: JumpStart FLAN-T5
// 1.x's (the Hugging Face inference image running JumpStart's inference.py), so DescribeModel
// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModel.html) lets the
// gateway detect its list contract as it would on AWS; a data directory written before says so too.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DescribeModelCommand } from '@aws-sdk/client-sagemaker'
import { LOCAL_MODEL_NAME } from '../../src/config.js'
import { modelContract } from '../../src/sagemaker/contracts/model-contract.js'
import { openLocalStack, tempDir } from '../helpers/local-sagemaker.js'

t.test('the built-in model is detected as jumpstart-list, in a fresh data directory and in an old one', async t => {
  const dir = await tempDir(t, 't2t-builtin-')
  const first = await openLocalStack(t, dir)
  const fresh = await modelContract(first.sm, LOCAL_MODEL_NAME)
  t.ok(fresh?.known === true && fresh.contract.name === 'jumpstart-list', 'fresh: the list contract')
  await first.close()

  // as a data directory of the previous version stored it
  const path = join(dir, 'control-plane', 'resources.json')
  const doc = JSON.parse(await readFile(path, 'utf8')) as { models: Record<string, { spec: { PrimaryContainer: { Image: string, Environment: Record<string, string> } } }> }
  doc.models[LOCAL_MODEL_NAME].spec.PrimaryContainer = { ...doc.models[LOCAL_MODEL_NAME].spec.PrimaryContainer, Image: 'local/extractive-lead:latest', Environment: {} }
  await writeFile(path, JSON.stringify(doc))
  const again = await openLocalStack(t, dir)
  const described = await again.sm.send(new DescribeModelCommand({ ModelName: LOCAL_MODEL_NAME }))
  t.match(described.PrimaryContainer, { Image: /huggingface-pytorch-inference:/, Environment: { SAGEMAKER_PROGRAM: 'inference.py' } }, 'upgraded on open')
  const upgraded = await modelContract(again.sm, LOCAL_MODEL_NAME)
  t.ok(upgraded?.known === true && upgraded.contract.name === 'jumpstart-list')
})
