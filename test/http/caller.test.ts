// callerGone (src/http/caller.ts): a caller that left before the route asked for its signal
// (while the route awaited an endpoint's first-use description) is already gone; one that is
// still there is gone once its response closes unfinished, and not after a normal finish.
import { EventEmitter } from 'node:events'
import t from 'tap'
import type { FastifyReply } from 'fastify'
import { callerGone } from '../../src/http/caller.js'

function reply (state: { closed: boolean, destroyed: boolean, writableFinished: boolean }): { reply: FastifyReply, raw: EventEmitter & typeof state } {
  const raw = Object.assign(new EventEmitter(), state)
  return { reply: { raw } as unknown as FastifyReply, raw }
}

t.test('a caller gone before the signal was asked for is aborted at once', async t => {
  t.equal(callerGone(reply({ closed: true, destroyed: true, writableFinished: false }).reply).aborted, true)
})

t.test('a caller still there: aborted when the response closes unfinished, not after it finished', async t => {
  const open = reply({ closed: false, destroyed: false, writableFinished: false })
  const signal = callerGone(open.reply)
  let fired = 0
  signal.addEventListener('abort', () => { fired++ })
  t.equal(signal.aborted, false)
  open.raw.emit('close')
  t.equal(signal.aborted, true)
  t.equal(fired, 1)
  const done = reply({ closed: false, destroyed: false, writableFinished: true })
  const finished = callerGone(done.reply)
  done.raw.emit('close')
  t.equal(finished.aborted, false)
})
