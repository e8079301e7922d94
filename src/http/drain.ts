/**
 * Shutdown inside a grace period. Docker and podman send SIGKILL 10 s after SIGTERM (`docker stop
 * -t`, `--stop-timeout`), Kubernetes after `terminationGracePeriodSeconds` (30 s by default);
 * whatever is still running then dies unanswered. So the drain is bounded by SHUTDOWN_TIMEOUT_MS:
 *
 * - the listener stays open while requests drain: a new /v1 request is answered 503
 *   SHUTTING_DOWN with Retry-After (app.ts) and `connection: close` (Fastify while closing),
 *   never refused, so a client or load balancer retries elsewhere; `/ready` answers 503;
 * - requests in flight get until the drain deadline (SHUTDOWN_TIMEOUT_MS minus the reserve) to
 *   finish;
 * - at the deadline `deadline` aborts and each owner answers what it still holds with 503
 *   SHUTTING_DOWN: the batcher its items (plugins/realtime.ts), the body budget every body still
 *   arriving, dataset uploads included (body-budget.ts). The listener closes once those answers
 *   are out, or half the reserve has passed; the services close in the rest of it, and
 *   server.ts exits (code 1) at SHUTDOWN_TIMEOUT_MS if anything still hangs.
 */
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

/** Seconds a caller turned away by a shutdown is told to wait: another instance (or this one restarted). */
export const SHUTTING_DOWN_RETRY_AFTER_S = 5

/** ms of SHUTDOWN_TIMEOUT_MS kept after the drain deadline: answering what it cut, closing the services. */
export function shutdownReserveMs (config: Pick<Config, 'SHUTDOWN_TIMEOUT_MS'>): number {
  return Math.min(1500, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 4))
}

/** The app's side of a shutdown: requests in flight, and the drain's deadline. */
export class Shutdown {
  readonly #controller = new AbortController()
  #inFlight = 0
  #idle: Array<() => void> = []

  constructor (private readonly config: Pick<Config, 'SHUTDOWN_TIMEOUT_MS'>) {}

  /** Aborts at the drain deadline: whoever still holds a request answers it 503 SHUTTING_DOWN. */
  get deadline (): AbortSignal { return this.#controller.signal }

  /** Requests received and not yet answered or abandoned. */
  get inFlight (): number { return this.#inFlight }

  /** Counts a request until its response closes (answered, or its connection gone). */
  track (response: NodeJS.EventEmitter): void {
    this.#inFlight++
    response.once('close', () => {
      if (--this.#inFlight > 0) return
      for (const resolve of this.#idle.splice(0)) resolve()
    })
  }

  /**
   * Resolves once no request is in flight; at the drain deadline first aborts `deadline`, then
   * gives the answers that causes up to half the reserve. True when everything finished in time.
   */
  async settle (): Promise<boolean> {
    const reserveMs = shutdownReserveMs(this.config)
    if (await this.#idleWithin(this.config.SHUTDOWN_TIMEOUT_MS - reserveMs)) return true
    this.#controller.abort(new Error('the drain deadline (SHUTDOWN_TIMEOUT_MS) passed'))
    await this.#idleWithin(reserveMs / 2)
    return false
  }

  async #idleWithin (ms: number): Promise<boolean> {
    if (this.#inFlight === 0) return true
    return await new Promise<boolean>(resolve => {
      const done = (idle: boolean): void => { clearTimeout(timer); resolve(idle) }
      const timer = setTimeout(() => {
        this.#idle = this.#idle.filter(f => f !== onIdle)
        done(false)
      }, ms)
      const onIdle = (): void => { done(true) }
      this.#idle.push(onIdle)
    })
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    shutdown: Shutdown
  }
}

/** Decorates the app with `shutdown` and counts every request in flight (register before the routes). */
export const drainPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const shutdown = new Shutdown(config)
  app.decorate('shutdown', shutdown)
  app.addHook('onRequest', (request, reply, done) => {
    shutdown.track(reply.raw)
    done()
  })
}, { name: 'drain' })
