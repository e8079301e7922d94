// `node dist/bench/hop-proxy-server.js`: createHopProxy as its own process, on PORT, to TARGET_URL.
import { createHopProxy } from './hop-proxy.js'

const server = createHopProxy(new URL(process.env.TARGET_URL as string))
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1')
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections() })
