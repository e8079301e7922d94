// What the services write on close (a tenant's real-time calls to S3; the invocation counts of
// endpoints the gateway deployed, to their tags) is sent before app.ts destroys the SDK clients, not after: Fastify runs
// onClose hooks in reverse order of registration, so the hook that destroys the clients must be
// added before the service plugins. And no idle sweep (which deletes endpoints) starts once
// closing has begun.
import t from 'tap'
import { S3Client } from '@aws-sdk/client-s3'
import { SageMakerClient } from '@aws-sdk/client-sagemaker'
import { localApp } from '../helpers/local-app.js'

t.test('writes made on close are sent before the SDK clients are destroyed', async t => {
  const events: string[] = []
  const clients = [S3Client, SageMakerClient] as const
  const original = clients.map(C => ({ C, send: C.prototype.send, destroy: C.prototype.destroy }))
  for (const { C, send, destroy } of original) {
    C.prototype.send = function (this: unknown, ...args: unknown[]) {
      const command = (args[0] as { constructor: { name: string } }).constructor.name
      events.push(`${C.name}.send ${command}`)
      return (send as (...a: unknown[]) => unknown).apply(this, args)
    } as typeof C.prototype.send
    C.prototype.destroy = function (this: unknown) {
      events.push(`${C.name}.destroy`)
      destroy.apply(this as never)
    } as typeof C.prototype.destroy
  }
  t.teardown(() => { for (const { C, send, destroy } of original) { C.prototype.send = send as never; C.prototype.destroy = destroy } })

  const { app } = await localApp(t, { API_KEYS: 'acme:k-acme-0123456789' })
  const res = await app.inject({ method: 'POST', url: '/v1/summarize', headers: { authorization: 'Bearer k-acme-0123456789' }, payload: { text: 'One sentence to count. Another one.' } })
  t.equal(res.statusCode, 200)
  events.length = 0
  await app.close()

  const destroyedAt = events.findIndex(e => e.endsWith('.destroy'))
  t.ok(destroyedAt > 0, `the clients are destroyed on close, after something was sent: ${events.join(', ')}`)
  t.ok(events.slice(0, destroyedAt).some(e => e === 'S3Client.send PutObjectCommand'), 'the tenant\'s calls were written to S3 on close')
  t.same(events.slice(destroyedAt).filter(e => e.includes('.send ')), [], 'nothing is sent after a client is destroyed')
})

t.test('no idle sweep starts once closing has begun, while the drain waits for running requests', async t => {
  const { IdleSweeper } = await import('../../src/endpoints/sweeper.js')
  const sweep = IdleSweeper.prototype.sweep
  let closing = false
  let sweepsWhileClosing = 0
  IdleSweeper.prototype.sweep = async function (this: InstanceType<typeof IdleSweeper>) {
    if (closing) sweepsWhileClosing++
    return await sweep.call(this)
  }
  t.teardown(() => { IdleSweeper.prototype.sweep = sweep })
  const { app } = await localApp(t, { ENDPOINT_SWEEP_INTERVAL_MS: 20, LOCAL_LATENCY_BASE_MS: 600 })
  // a request the drain waits for (about 600 ms): 20 ms sweeps would run all along it
  const running = app.inject({ method: 'POST', url: '/v1/summarize', payload: { text: 'Held by a slow endpoint. Second sentence.' } })
  await new Promise(resolve => setTimeout(resolve, 100))
  closing = true
  await app.close()
  t.equal((await running).statusCode, 200, 'the running request was answered')
  t.equal(sweepsWhileClosing, 0, 'no sweep started after close began')
})
