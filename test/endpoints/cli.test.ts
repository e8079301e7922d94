// `endpoints deploy|list|describe|scale|delete` and `usage` against a listening gateway on the
// local stack: deploy waits with its status on stderr until InService, then the endpoint is a
// --model for `summarize`.
import t from 'tap'
import { listeningApp } from '../helpers/local-app.js'
import { runCli } from '../helpers/cli.js'

t.test('deploy (waiting), summarise with it, list, describe, scale, delete, usage', async t => {
  const { url } = await listeningApp(t, { LOCAL_ENDPOINT_TRANSITION_MS: 2000, ENDPOINT_CACHE_MS: 0 })
  const env = { T2T_URL: url }
  const deployed = await runCli(['endpoints', 'deploy', 'cli-ep', '--model', 'flan-t5-local', '--instance-type', 'ml.g5.xlarge', '--idle-delete-after', '30'], { env })
  t.equal(deployed.code, 0, deployed.stderr)
  t.match(deployed.stderr, /^cli-ep: Creating, .*\ncli-ep: InService after /m, 'a progress line, then the end state')
  t.match(deployed.stdout, /status +InService/)
  t.match(deployed.stdout, /instances +1 x ml\.g5\.xlarge/)

  const summary = await runCli(['summarize', '--model', 'cli-ep', 'The ferry sailed at dawn. It was full.'], { env })
  t.equal(summary.code, 0, summary.stderr)
  t.match(summary.stdout, /ferry/)

  const list = await runCli(['endpoints', 'list'], { env })
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /^NAME +STATUS .*\ncli-ep +InService +1 x ml\.g5\.xlarge +yes/m)
  const described = await runCli(['endpoints', 'describe', 'cli-ep', '--json'], { env })
  t.match(JSON.parse(described.stdout), { name: 'cli-ep', managed: true, idleDeleteAfterMinutes: 30, usage: { items: 1 } })

  t.match(await runCli(['endpoints', 'scale', 'cli-ep', '0'], { env }), { code: 2, stderr: /instance count must be an integer from 1 to 100, got "0"/ })
  const scaled = await runCli(['endpoints', 'scale', 'cli-ep', '2'], { env })
  t.equal(scaled.code, 0, scaled.stderr)
  t.match(scaled.stdout, /status +Updating/)

  const usage = await runCli(['usage'], { env })
  t.equal(usage.code, 0, usage.stderr)
  t.match(usage.stdout, /endpoint \((Updating|InService)\) +cli-ep +2 x ml\.g5\.xlarge/)
  t.match(usage.stdout, /estimates, not a bill/)

  const notManaged = await runCli(['endpoints', 'delete', 'flan-t5-local'], { env })
  t.match(notManaged, { code: 2, stderr: /NOT_MANAGED|cannot be deleted/ })
  const deleted = await runCli(['endpoints', 'delete', 'cli-ep'], { env })
  t.equal(deleted.code, 0, deleted.stderr)
  t.match(deleted.stdout, /^cli-ep: Deleting; it cost ~\$\d+\.\d{4} \(estimate/)

  t.match(await runCli(['endpoints', 'deploy', 'x', '--instance-type', 'ml.g5.xlarge'], { env }), { code: 2, stderr: /either --model NAME, or --image/ })
  t.match(await runCli(['usage', '--from', 'yesterday'], { env }), { code: 2, stderr: /--from must be an ISO 8601 date-time/ })
  t.match(await runCli(['endpoints', 'deploy', '--help']), { code: 0, stdout: /^usage: text2text-gateway endpoints deploy/ })
})
