"""Ray Serve as a peer of text2text-gateway in `npm run bench` (bench/peer.ts, BENCH_ONLY=peer).

What a Python user who wants micro-batching in front of a SageMaker JumpStart text2text
endpoint writes without the gateway: one Serve deployment whose `@serve.batch` method sends
each micro-batch as one list payload through boto3's `invoke_endpoint`, from a thread pool
(boto3 is synchronous), at most `--concurrency` invocations in flight. Ray's own pages for it:
https://docs.ray.io/en/latest/serve/advanced-guides/dyn-req-batch.html (batching, the setters
that change the batch wait at run time) and
https://docs.ray.io/en/latest/serve/api/doc/ray.serve.batch.html (max_concurrent_batches).

    python3 bench/ray/serve_app.py --endpoint-url URL --concurrency S --http-port P \
        --proxy-port Q --grpc-port R [--batch-wait-timeout-s 0.005]

Route: POST /v1/generate with the gateway's JumpStart body, `{"text_inputs": "<one string>",
"max_length": 50, ...}`, answered `{"generated_texts": [...]}` as the endpoint answers a string
input. Every other body field is passed to the endpoint; requests are batched with others that
carry the same fields.

Protocol with the bench (this process is the root of everything Ray starts):
- stdout: one JSON line `{"ready": true, "url": ...}` once the app is deployed; one
  `{"batch_wait_timeout_s": x}` line after each change asked for on stdin;
- stdin: a line `{"batch_wait_timeout_s": x}` changes the batch wait; EOF (or SIGTERM) stops
  Serve and Ray and exits.

Direct ingress: with RAY_SERVE_ENABLE_DIRECT_INGRESS=1 the ingress replica serves HTTP itself on
a port from the RAY_SERVE_DIRECT_INGRESS_{MIN,MAX}_HTTP_PORT range (pinned here to --http-port;
the range excludes its max: ray/serve/_private/node_port_manager.py),
with no hop through Serve's proxy actor (ray/serve/_private/constants.py and replica.py of Ray
2.58; the proxy is still started, on --proxy-port).
"""
import argparse
import os
import signal
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint-url", required=True, help="SageMaker runtime URL (the bench's endpoint process)")
    p.add_argument("--endpoint-name", default="flan-t5-local")
    p.add_argument("--concurrency", type=int, required=True, help="invocations in flight at most: the endpoint's slots")
    p.add_argument("--http-port", type=int, required=True, help="direct-ingress HTTP port of the replica")
    p.add_argument("--proxy-port", type=int, required=True, help="port of Serve's HTTP proxy actor")
    p.add_argument("--grpc-port", type=int, required=True, help="direct-ingress gRPC port of the replica")
    p.add_argument("--batch-wait-timeout-s", type=float, default=0.005)
    p.add_argument("--max-batch-size", type=int, default=32)
    return p.parse_args()


ARGS = parse_args()
# read by Ray Serve at import time, in this process and in every process Ray starts from it
os.environ.update({
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "1",
    "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(ARGS.http_port),
    "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(ARGS.http_port + 1),
    "RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT": str(ARGS.grpc_port),
    "RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT": str(ARGS.grpc_port + 1),
    # no load balancer in front to drain for: serve.shutdown() need not hold the replica 30 s
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "0",
    # the machine is offline: no usage-stats upload attempts
    "RAY_USAGE_STATS_ENABLED": "0",
})

import asyncio  # noqa: E402
import json  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import boto3  # noqa: E402
import ray  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402
from ray import serve  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402


def texts_of(entry):
    """One input's generated texts from a list response: the AWS notebook's list of lists
    (introduction_to_amazon_algorithms/jumpstart-foundation-models/
    text2text-generation-flan-t5-Batch-Transform.ipynb), or a `{"generated_texts": [...]}` entry."""
    if isinstance(entry, list):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("generated_texts"), list):
        return entry["generated_texts"]
    if isinstance(entry, str):
        return [entry]
    return None


def build_app(endpoint_url, endpoint_name, concurrency, max_batch_size, batch_wait_timeout_s):
    """The Serve application: one deployment, batching at most `max_batch_size` requests."""

    # max_ongoing_requests >= max_batch_size * max_concurrent_batches, as @serve.batch asks
    # (ray/serve/batching.py warns otherwise): fewer would keep batches from filling
    @serve.deployment(
        max_ongoing_requests=max_batch_size * concurrency,
        logging_config={"enable_access_log": False},
    )
    class Text2Text:
        def __init__(self):
            # dummy keys: the bench's endpoint does not check signatures (BENCH_CREDENTIALS in
            # bench/gateway-process.ts); one pooled connection per thread
            self.client = boto3.client(
                "sagemaker-runtime",
                endpoint_url=endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
                config=Config(max_pool_connections=concurrency),
            )
            self.pool = ThreadPoolExecutor(max_workers=concurrency)

        async def __call__(self, request: Request):
            if request.method != "POST":
                return JSONResponse({"error": f"method {request.method} not allowed; POST a JSON body"}, status_code=405)
            try:
                body = await request.json()
            except ValueError as e:
                return JSONResponse({"error": f"body is not JSON: {e}"}, status_code=400)
            if not isinstance(body, dict):
                return JSONResponse({"error": f"body must be a JSON object, got {json.dumps(body)[:100]}"}, status_code=400)
            text = body.get("text_inputs")
            if not isinstance(text, str) or text == "":
                return JSONResponse({"error": f"text_inputs must be a non-empty string, got {json.dumps(text)[:100]}"}, status_code=400)
            params = {k: v for k, v in body.items() if k != "text_inputs"}
            status, answer = await self.generate((text, params))
            return JSONResponse(answer, status_code=status)

        @serve.batch(max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_timeout_s, max_concurrent_batches=concurrency)
        async def generate(self, items):
            # one invocation per distinct set of parameters in the batch (a list payload carries
            # one set for all its inputs)
            groups = {}
            for i, (_, params) in enumerate(items):
                groups.setdefault(json.dumps(params, sort_keys=True), []).append(i)
            results = [None] * len(items)
            loop = asyncio.get_running_loop()

            async def run(indices):
                texts = [items[i][0] for i in indices]
                answers = await loop.run_in_executor(self.pool, self.invoke, texts, items[indices[0]][1])
                for i, a in zip(indices, answers):
                    results[i] = a

            await asyncio.gather(*(run(ix) for ix in groups.values()))
            return results

        def invoke(self, texts, params):
            """(status, body) per input of one InvokeEndpoint call with a list payload."""
            try:
                res = self.client.invoke_endpoint(
                    EndpointName=endpoint_name,
                    ContentType="application/json",
                    Accept="application/json",
                    Body=json.dumps({**params, "text_inputs": texts}),
                )
                out = json.loads(res["Body"].read())
            except ClientError as e:
                # the endpoint's own status and error (ValidationError 400, ModelError 424, ...)
                err = e.response.get("Error", {})
                status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 502)
                return [(status, {"error": err.get("Code", "ClientError"), "message": err.get("Message", str(e))})] * len(texts)
            except (BotoCoreError, ValueError) as e:
                return [(502, {"error": type(e).__name__, "message": str(e)})] * len(texts)
            per_input = [texts_of(x) for x in out] if isinstance(out, list) and len(out) == len(texts) else None
            if per_input is None or any(t is None for t in per_input):
                return [(502, {"error": "UnexpectedResponse", "message": f"endpoint answered {json.dumps(out)[:200]} for {len(texts)} inputs"})] * len(texts)
            return [(200, {"generated_texts": t}) for t in per_input]

        def set_batch_wait_timeout_s(self, seconds: float) -> float:
            """Changes the batch wait without a redeploy (ray/serve/batching.py setters)."""
            self.generate.set_batch_wait_timeout_s(seconds)
            return seconds

    return Text2Text.bind()


def main():
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        # num_cpus: this machine's two cores; the replica reserves one
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        serve.start(http_options={"host": "127.0.0.1", "port": ARGS.proxy_port}, logging_config={"enable_access_log": False})
        app = build_app(ARGS.endpoint_url, ARGS.endpoint_name, ARGS.concurrency, ARGS.max_batch_size, ARGS.batch_wait_timeout_s)
        handle = serve.run(app, name="text2text", route_prefix="/v1/generate")
        print(json.dumps({"ready": True, "url": f"http://127.0.0.1:{ARGS.http_port}/v1/generate", "ray": ray.__version__}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            seconds = float(json.loads(line)["batch_wait_timeout_s"])
            print(json.dumps({"batch_wait_timeout_s": handle.set_batch_wait_timeout_s.remote(seconds).result()}), flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            serve.shutdown()
        finally:
            ray.shutdown()


if __name__ == "__main__":
    main()
