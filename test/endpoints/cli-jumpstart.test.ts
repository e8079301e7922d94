// `endpoints deploy --jumpstart MODEL_ID [--version V] --role ARN` against a listening gateway on
// the local stack (whose JumpStart catalog lists FLAN-T5 1.x on the list container and 2.x on
// TGI): the version resolved, the contract, and the 1.x endpoint used as a --model for `summarize`.
import t from 'tap'
import { listeningApp } from '../helpers/local-app.js'
import { runCli } from '../helpers/cli.js'

const ROLE = 'arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole'

t.test('deploy by JumpStart id, wait, summarise with it, describe', async t => {
  const { url } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 500, ENDPOINT_CACHE_MS: 0 })
  const env = { T2T_URL: url }
  const list = await runCli(['endpoints', 'deploy', 'js-cli-list', '--jumpstart', 'huggingface-text2text-flan-t5-large', '--version', '1.*', '--role', ROLE, '--instance-type', 'ml.g5.2xlarge'], { env })
  t.equal(list.code, 0, list.stderr)
  t.match(list.stderr, /js-cli-list: InService after /)
  t.match(list.stdout, /jumpstart +huggingface-text2text-flan-t5-large 1\.2\.3 \(asked: 1\.\*\)/)
  t.match(list.stdout, /contract +jumpstart-list \(detected\)/)
  const summary = await runCli(['summarize', '--model', 'js-cli-list', 'The ferry sailed at dawn. It was full.'], { env })
  t.equal(summary.code, 0, summary.stderr)
  t.match(summary.stdout, /ferry/)

  const tgi = await runCli(['endpoints', 'deploy', 'js-cli-tgi', '--jumpstart', 'huggingface-text2text-flan-t5-large', '--role', ROLE, '--env', 'MAX_INPUT_LENGTH=512', '--instance-type', 'ml.g5.2xlarge', '--no-wait', '--json'], { env })
  t.equal(tgi.code, 0, tgi.stderr)
  t.match(JSON.parse(tgi.stdout), { name: 'js-cli-tgi', status: 'Creating', jumpstart: { modelId: 'huggingface-text2text-flan-t5-large', version: '2.3.7', requestedVersion: '*' }, contract: { name: 'tgi', source: 'detected' } })

  t.match(await runCli(['endpoints', 'deploy', 'js-bad', '--jumpstart', 'huggingface-text2text-flan-t5-large', '--version', '9.*', '--role', ROLE, '--instance-type', 'ml.g5.2xlarge'], { env }),
    { code: 2, stderr: /body\.model\.jumpstart\.version "9\.\*".*available: 2\.3\.7, 2\.0\.0, 1\.2\.3, 1\.0\.0/ })
  t.match(await runCli(['endpoints', 'deploy', 'js-bad', '--jumpstart', 'huggingface-text2text-flan-t5-large', '--instance-type', 'ml.g5.2xlarge'], { env }), { code: 2, stderr: /--role is required with --jumpstart/ })
  t.match(await runCli(['endpoints', 'deploy', 'js-bad', '--model', 'm', '--jumpstart', 'x', '--role', ROLE, '--instance-type', 'ml.g5.2xlarge'], { env }), { code: 2, stderr: /give either --model NAME/ })
  t.match(await runCli(['endpoints', 'deploy', 'js-bad', '--model', 'flan-t5-local', '--env', 'A=1', '--instance-type', 'ml.g5.2xlarge'], { env }), { code: 2, stderr: /--env goes with --image or --jumpstart/ }, 'an --env that would be ignored is refused')
  t.match(await runCli(['endpoints', 'deploy', 'js-bad', '--model', 'flan-t5-local', '--version', '1.*', '--instance-type', 'ml.g5.2xlarge'], { env }), { code: 2, stderr: /--version goes with --jumpstart/ })

  const custom = await runCli(['endpoints', 'deploy', 'js-custom', '--image', '111122223333.dkr.ecr.us-east-1.amazonaws.com/my-server:1', '--model-data-url', 's3://m/model.tar.gz', '--role', ROLE, '--contract', 'lmi-rolling', '--instance-type', 'ml.g5.2xlarge', '--no-wait', '--json'], { env })
  t.equal(custom.code, 0, custom.stderr)
  t.match(JSON.parse(custom.stdout), { contract: { name: 'lmi-rolling', source: 'explicit' } })
})
