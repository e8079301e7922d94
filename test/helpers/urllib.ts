import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

// urllib posting `size` bytes of a JSON-looking body from a generator (the client holds one
// 64 KiB chunk at a time), framed by content-length or chunked, writing all of it before it
// reads the answer, as urllib does; prints what the client read, or the error it raised
const CLIENT = `
import json, sys, urllib.request, urllib.error
url, framing, size, media = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
head, tail = b'{"text_inputs": "', b'"}'
def body():
    yield head
    left = size - len(head) - len(tail)
    while left > 0:
        n = min(65536, left)
        yield b"x" * n
        left -= n
    yield tail
headers = {"content-type": media}
if framing == "length":
    headers["content-length"] = str(size)
req = urllib.request.Request(url, data=body(), headers=headers, method="POST")
try:
    with urllib.request.urlopen(req, timeout=60) as res:
        print("status", res.status, json.loads(res.read()).get("code"))
except urllib.error.HTTPError as e:
    print("http", e.code, json.loads(e.read())["code"])
except Exception as e:
    print("error", type(e).__name__, e)
`

/** Why tests driving Python's urllib are skipped here, or false when python3 runs. */
export const noPython: string | false = await run('python3', ['-c', 'print(1)']).then(() => false, () => 'python3 is not installed')

/** What Python's urllib read when it posted `size` bytes to `url`: `http 413 BODY_TOO_LARGE`, `status 200 …`, or `error <type> <message>`. */
export async function urllibPost (url: string, framing: 'length' | 'chunked', size: number, media = 'application/json'): Promise<string> {
  const { stdout } = await run('python3', ['-c', CLIENT, url, framing, String(size), media], { timeout: 90_000 })
  return stdout.trim()
}
