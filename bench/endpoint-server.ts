// `node dist/bench/endpoint-server.js`: the local stack alone (runtime + control plane + S3) as
// its own process, so a benchmark can measure a gateway's CPU without the endpoint's. LOCAL_*
// knobs from the environment, as the gateway's embedded stack reads them; PORT is the local
// SageMaker's port (ready once GET /_local/stats answers).
import { loadConfig } from '../src/config.js'
import { startLocalStack } from '../src/local/stack.js'

const config = loadConfig()
const local = await startLocalStack(config, { sagemakerPort: config.PORT })
process.on('SIGTERM', () => { void local.close().then(() => process.exit(0)) })
