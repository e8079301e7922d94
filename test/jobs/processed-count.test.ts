// A completed job's output is counted once (its `progress.processed`), not on every view: the
// count is stored next to the job's manifest (processed.json), so another replica (or this one
// restarted) reads it instead of the output, and concurrent first views share one count. The
// gateways here reach S3 through a proxy that counts (and can fail) their reads.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker'
import { buildApp } from '../../src/app.js'
import { createControlClient } from '../../src/sagemaker/clients.js'
import { localApp } from '../helpers/local-app.js'

const KEY = 'count-key'
const auth = { authorization: `Bearer ${KEY}` }

/** A proxy to `target` counting GETs by path; paths matching `failing` answer 500. */
async function s3Proxy (t: Test, target: string): Promise<{ url: string, gets: (re: RegExp) => number, failing: { re: RegExp | undefined } }> {
  const seen: string[] = []
  const failing: { re: RegExp | undefined } = { re: undefined }
  const upstream = new URL(target)
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '')
    if (req.method === 'GET') seen.push(path)
    if (req.method === 'GET' && failing.re?.test(path) === true) {
      req.resume()
      res.writeHead(500, { 'content-type': 'application/xml' }).end('<Error><Code>InternalError</Code><Message>injected</Message></Error>')
      return
    }
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, up => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    out.on('error', () => { res.destroy() })
    req.pipe(out)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, gets: re => seen.filter(p => re.test(p)).length, failing }
}

t.test('a completed job\'s output is counted once, shared by concurrent views, and stored for every replica; a failed count is not a failed view', async t => {
  const { app: direct, stack, config } = await localApp(t, { API_KEYS: `a:${KEY}` })
  const proxy = await s3Proxy(t, stack.awsTarget.s3Endpoint as string)
  const replica = async (): Promise<typeof direct> => {
    const app = await buildApp(config, { aws: { ...stack.awsTarget, s3Endpoint: proxy.url } })
    t.teardown(async () => { await app.close() })
    await app.ready()
    return app
  }
  const view = async (app: typeof direct, name: string): Promise<{ statusCode: number, progress: unknown }> => {
    const res = await app.inject({ url: `/v1/transform-jobs/${name}`, headers: auth })
    return { statusCode: res.statusCode, progress: res.json().progress }
  }
  const control = createControlClient(stack.awsTarget)
  t.teardown(() => { control.destroy() })
  const completed = async (name: string): Promise<void> => {
    const records = [1, 2, 3].map(id => ({ id, text: `Sentence ${id} of a short article. Another one follows.` }))
    const created = await direct.inject({ method: 'POST', url: '/v1/transform-jobs', headers: auth, payload: { name, input: { records } } })
    t.equal(created.statusCode, 202, created.body)
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const d = await control.send(new DescribeTransformJobCommand({ TransformJobName: name }))
      if (d.TransformJobStatus === 'Completed') return
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    t.fail(`${name} did not complete`)
  }
  await completed('counted')
  const outputReads = (name: string): number => proxy.gets(new RegExp(`/jobs/${name}/[^/]+/output/`))
  const countReads = (name: string): number => proxy.gets(new RegExp(`/jobs/${name}/[^/]+/processed\\.json$`))

  const first = await replica()
  const views = await Promise.all([1, 2, 3].map(async () => await view(first, 'counted')))
  for (const v of views) t.same(v, { statusCode: 200, progress: { processed: 3, total: 3 } })
  t.equal(outputReads('counted'), 1, 'three concurrent first views read the output once')
  t.same(await view(first, 'counted'), { statusCode: 200, progress: { processed: 3, total: 3 } })
  t.equal(outputReads('counted'), 1, 'a later view does not read it again')

  const second = await replica()
  const before = countReads('counted')
  t.same(await view(second, 'counted'), { statusCode: 200, progress: { processed: 3, total: 3 } })
  t.equal(outputReads('counted'), 1, 'another replica does not read the output')
  t.equal(countReads('counted'), before + 1, 'it reads the stored count')

  // S3 failing on the output: the view answers, without progress; the next view counts again
  await completed('flaky')
  proxy.failing.re = /\/jobs\/flaky\/[^/]+\/output\//
  t.same(await view(second, 'flaky'), { statusCode: 200, progress: undefined }, 'no progress rather than a 5xx')
  proxy.failing.re = undefined
  t.same(await view(second, 'flaky'), { statusCode: 200, progress: { processed: 3, total: 3 } }, 'a failed count is not kept')
})
