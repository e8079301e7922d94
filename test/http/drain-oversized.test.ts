// A client that writes its whole body before reading the answer (Python's urllib, as many SDKs
// do) gets the 413 for a body over the route's limit, not a reset connection: the gateway reads
// the rest of the body (up to DRAIN_MAX_BYTES) before answering.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { listeningApp } from '../helpers/local-app.js'

const run = promisify(execFile)
const CLIENT = `
import json, sys, urllib.request, urllib.error
body = json.dumps({"text": "x" * int(sys.argv[2])}).encode()
req = urllib.request.Request(sys.argv[1] + "/v1/summarize", data=body, headers={"content-type": "application/json"})
try:
    print("status", urllib.request.urlopen(req).status)
except urllib.error.HTTPError as e:
    print("http", e.code, json.loads(e.read())["code"])
except Exception as e:
    print("error", type(e).__name__, e)
`

const python = await run('python3', ['-c', 'print(1)']).then(() => true, () => false)

t.test('urllib posting 20 MB to a route that takes at most a few MB reads 413 BODY_TOO_LARGE', { skip: python ? false : 'python3 is not installed' }, async t => {
  const { url } = await listeningApp(t)
  const { stdout } = await run('python3', ['-c', CLIENT, url, String(20_000_000)], { timeout: 60_000 })
  t.equal(stdout.trim(), 'http 413 BODY_TOO_LARGE', `urllib saw: ${stdout.trim()} (before: a broken pipe)`)
  const small = await run('python3', ['-c', CLIENT, url, '100'], { timeout: 60_000 })
  t.equal(small.stdout.trim(), 'status 200', 'a body within the limit is served as before')
})
