import t from 'tap'
import { endpointContracts, loadConfig } from '../src/config.js'
import { spawnGateway } from './helpers/process.js'

t.test('a non-loopback HOST without keys stops the boot unless ALLOW_OPEN_ACCESS=true', async t => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10', 'gateway.internal']) {
    t.throws(() => loadConfig({ HOST: host }), /HOST=\S+ is not a loopback address.*API_KEYS.*ALLOW_OPEN_ACCESS=true/, `HOST=${host} without keys`)
  }
  t.equal(loadConfig({ HOST: '0.0.0.0', API_KEYS: 'k' }).HOST, '0.0.0.0', 'with API_KEYS')
  t.equal(loadConfig({ HOST: '0.0.0.0', ADMIN_API_KEYS: 'ops:k' }).HOST, '0.0.0.0', 'with ADMIN_API_KEYS')
  t.equal(loadConfig({ HOST: '0.0.0.0', ALLOW_OPEN_ACCESS: 'true' }).ALLOW_OPEN_ACCESS, true, 'open on purpose')
  t.throws(() => loadConfig({ HOST: '0.0.0.0', ALLOW_OPEN_ACCESS: 'false' }), /ALLOW_OPEN_ACCESS/, 'false is not consent')
  t.throws(() => loadConfig({ ALLOW_OPEN_ACCESS: 'sure' }), /ALLOW_OPEN_ACCESS must be boolean \(got "sure"\)/, 'a bad value names the variable')
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
    t.equal(loadConfig({ HOST: host }).HOST, host, `HOST=${host} (loopback) without keys`)
  }
  t.equal(loadConfig({}).HOST, undefined, 'no HOST: the server picks 127.0.0.1 without keys')
})

t.test('the process exits 1 with the message, before listening', async t => {
  const started = spawnGateway({ HOST: '0.0.0.0' })
  await t.rejects(started, /exited with 1: text2text-gateway: invalid configuration: HOST=0\.0\.0\.0 is not a loopback address/)
})

t.test('ENDPOINT_CONTRACTS: endpoint=contract pairs, checked at boot naming the bad entry', async t => {
  t.same([...endpointContracts(loadConfig({ ENDPOINT_CONTRACTS: 'my-ep=tgi, other=jumpstart-list,,x=lmi-rolling' }))], [['my-ep', 'tgi'], ['other', 'jumpstart-list'], ['x', 'lmi-rolling']])
  t.same([...endpointContracts(loadConfig({}))], [], 'unset: every contract is detected')
  t.throws(() => loadConfig({ ENDPOINT_CONTRACTS: 'my-ep=tgi,other=vllm' }), /^invalid configuration: ENDPOINT_CONTRACTS: entry "other=vllm": contract "vllm" is not one of jumpstart-list, tgi, lmi-rolling, lmi-dynamic$/)
  t.throws(() => loadConfig({ ENDPOINT_CONTRACTS: 'my-ep' }), /ENDPOINT_CONTRACTS: entry "my-ep" is not endpoint=contract/)
  t.throws(() => loadConfig({ ENDPOINT_CONTRACTS: '=tgi' }), /ENDPOINT_CONTRACTS: entry "=tgi" is not endpoint=contract/)
  t.throws(() => loadConfig({ ENDPOINT_CONTRACTS: 'a=tgi,a=lmi-rolling' }), /ENDPOINT_CONTRACTS: entry "a=lmi-rolling": endpoint "a" is named twice/)
  t.throws(() => loadConfig({ REALTIME_MAX_CONCURRENT_PER_ENDPOINT: '0' }), /REALTIME_MAX_CONCURRENT_PER_ENDPOINT must be >= 1 \(got "0"\)/)
})
