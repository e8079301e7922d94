// The real clock's timers against the event loop: a batcher timer that comes due while the
// process is busy must not decide before the requests that arrived meanwhile are read. Traced
// on the bench (200+0.5·B, 4 slots, 128 callers): the gateway busy for 10-20 ms writing one
// batch's answers, its timer then saw "no arrival for 20 ms" with 10-23 callers' requests
// unread in their sockets, sent a short batch, and those callers waited a whole invocation
// more (p99 1.4-1.55x p50 in half the runs).
import t, { type Test } from 'tap'
import net from 'node:net'
import { realClock } from '../../src/batching/clock.js'

/** A loopback connection whose server side calls `onData`; resolves once the server accepted it. */
async function connection (t: Test, onData: () => void): Promise<net.Socket> {
  let accepted!: () => void
  const connected = new Promise<void>((resolve) => { accepted = resolve })
  const server = net.createServer((socket) => {
    socket.on('data', onData)
    accepted()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  t.teardown(() => { client.destroy() })
  await connected
  return client
}

/** Busy past a 1 ms timer's time, with the bytes already in the server's socket. */
function busy (ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) { /* the process is busy */ }
}

t.test('realClock: a timer that came due while the process was busy runs after the I/O that arrived meanwhile', async (t) => {
  const order: string[] = []
  const client = await connection(t, () => { order.push('data') })
  const fired = new Promise<void>((resolve) => realClock.setTimeout(() => { order.push('timer'); resolve() }, 1))
  client.write('a request')
  busy(30)
  await fired
  t.same(order, ['data', 'timer'])
})

t.test('realClock: a timer cleared after it came due, before its callback ran, does not run', async (t) => {
  // the batcher re-arms its timer when a request arrives: the old timer must not run after that
  let fired = false
  const timer: { handle?: unknown } = {}
  let read!: () => void
  const dataRead = new Promise<void>((resolve) => { read = resolve })
  const client = await connection(t, () => { realClock.clearTimeout(timer.handle); read() })
  timer.handle = realClock.setTimeout(() => { fired = true }, 1)
  client.write('a request')
  busy(30)
  await dataRead
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(fired, false)
})

t.test('realClock: clearTimeout cancels a pending timer, and takes no timer at all as the global one does', async (t) => {
  let fired = false
  const handle = realClock.setTimeout(() => { fired = true }, 1)
  realClock.clearTimeout(handle)
  t.doesNotThrow(() => { realClock.clearTimeout(undefined) })
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(fired, false)
})
