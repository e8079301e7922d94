import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler'

type Handle = NodeHttpHandler['handle']
type HandlerRequest = Parameters<Handle>[0]
type HandlerOptions = Parameters<Handle>[1]

/**
 * The runtime client's HTTP handler: a NodeHttpHandler that finds each request's AbortSignal
 * by the identity of the request's body.
 *
 * Why: passing `{ abortSignal }` to `client.send` makes the SDK rebuild its whole middleware
 * stack on every call (clone, sort, resolve); with `cacheMiddleware: true` and no per-call
 * options it resolves the stack once per command class: 165 → 100 µs of CPU per
 * InvokeEndpoint call with the network stubbed out (`npm run bench` prints what a whole call
 * costs next to a bare HTTP POST). The price is that per-call options are
 * gone — so the invoker registers the signal here against the Body buffer it sends, which the
 * SDK hands to the request handler as the very same object (a test pins that down).
 */
export class AbortableHttpHandler {
  readonly #inner: NodeHttpHandler
  readonly #signals = new WeakMap<object, AbortSignal>()

  constructor (options: NodeHttpHandlerOptions) {
    this.#inner = new NodeHttpHandler(options)
  }

  get metadata (): NodeHttpHandler['metadata'] { return this.#inner.metadata }

  /** The request whose body is `body` is aborted with `signal`; the entry goes with the body. */
  bind (body: Uint8Array, signal: AbortSignal): void {
    this.#signals.set(body, signal)
  }

  async handle (request: HandlerRequest, options: HandlerOptions = {}): ReturnType<Handle> {
    const body: unknown = request.body
    const signal = typeof body === 'object' && body !== null ? this.#signals.get(body) : undefined
    return await this.#inner.handle(request, signal === undefined ? options : { ...options, abortSignal: signal })
  }

  updateHttpClientConfig (key: keyof NodeHttpHandlerOptions, value: NodeHttpHandlerOptions[typeof key]): void {
    this.#inner.updateHttpClientConfig(key, value)
  }

  httpHandlerConfigs (): NodeHttpHandlerOptions {
    return this.#inner.httpHandlerConfigs()
  }

  destroy (): void {
    this.#inner.destroy()
  }
}
