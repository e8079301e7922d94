"""boto3 against the local stack's emulated TGI endpoint (driven by tgi-boto3.test.ts).

invoke_endpoint and invoke_endpoint_with_response_stream as a user of JumpStart FLAN-T5 2.x
calls them; the EventStream is iterated and its PayloadPart bytes reassembled into TGI's
server-sent events. AWS API reference: InvokeEndpointWithResponseStream and ResponseStream
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_ResponseStream.html).
Prints one `ok - ...` / `not ok - ...` line per check and a JSON summary line last.
"""
import json
import os
import sys
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["TGI_ENDPOINT"]
LIST_ENDPOINT = os.environ["LIST_ENDPOINT"]
ARTICLE = os.environ["ARTICLE"]
MAX_INPUT = int(os.environ["MAX_INPUT_LENGTH"])

runtime = boto3.client(
    "sagemaker-runtime",
    endpoint_url=os.environ["SAGEMAKER_ENDPOINT_URL"],
    region_name="us-east-1",
    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
)
failures = 0
summary = {}


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if not ok:
        failures += 1


def invoke(body, endpoint=ENDPOINT):
    out = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=json.dumps(body))
    return json.loads(out["Body"].read())


def model_error(call):
    try:
        call()
    except ClientError as err:
        return err.response
    return None


class SseEvents:
    """TGI's server-sent events from byte chunks cut anywhere (data: lines, blank-line separated)."""

    def __init__(self):
        self.buffer = b""

    def feed(self, chunk):
        self.buffer += chunk
        events = []
        while b"\n\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\n\n", 1)
            data = [line[5:].lstrip(b" ") for line in raw.split(b"\n") if line.startswith(b"data:")]
            if data:
                events.append(json.loads(b"\n".join(data).decode("utf-8")))
        return events


def stream(body):
    """Returns (events, parts, seconds to the first part, seconds to the end)."""
    started = time.monotonic()
    out = runtime.invoke_endpoint_with_response_stream(EndpointName=ENDPOINT, ContentType="application/json", Body=json.dumps(body))
    reader = SseEvents()
    events, parts, first = [], 0, None
    for event in out["Body"]:
        if "PayloadPart" not in event:
            raise RuntimeError("unexpected event %r" % (event,))
        if first is None:
            first = time.monotonic() - started
        parts += 1
        events.extend(reader.feed(event["PayloadPart"]["Bytes"]))
    check(reader.buffer == b"", "nothing left over after the last PayloadPart")
    return events, parts, first, time.monotonic() - started, out


# --- invoke_endpoint ---------------------------------------------------------------------------
answer = invoke({"inputs": ARTICLE, "parameters": {"max_new_tokens": 30}})
check(isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0]["generated_text"], str),
      "invoke_endpoint: [{generated_text}]")
whole = answer[0]["generated_text"]

# --- invoke_endpoint_with_response_stream -----------------------------------------------------
events, parts, first, total, out = stream({"inputs": ARTICLE, "parameters": {"max_new_tokens": 30}, "stream": True})
check(out["ContentType"] == "text/event-stream", "ContentType is the container's text/event-stream")
tokens = "".join(e["token"]["text"] for e in events if not e["token"]["special"])
final = [e["generated_text"] for e in events if e.get("generated_text") is not None]
check(final == [whole], "stream: the last event's generated_text is invoke_endpoint's answer")
check(tokens == whole, "stream: the tokens reassemble into it")
check(parts > len(events), "stream: more PayloadParts than events (cut at arbitrary bytes)")
check(first < total / 2, "stream: the first PayloadPart arrives before half of the generation (%.3f of %.3f s)" % (first, total))
summary["tokens"] = len(events)
summary["parts"] = parts

# --- errors as ModelError with OriginalStatusCode ------------------------------------------------
err = model_error(lambda: invoke({"inputs": ["a", "b"]}))
check(err is not None and err["Error"]["Code"] == "ModelError" and err["OriginalStatusCode"] == 422,
      "a list in inputs: ModelError, OriginalStatusCode 422")
too_long = " ".join(["w"] * (MAX_INPUT + 1))
err = model_error(lambda: invoke({"inputs": too_long}))
check(err is not None and err["OriginalStatusCode"] == 422
      and json.loads(err["OriginalMessage"]) == {"error": "Input validation error: `inputs` must have less than %d tokens. Given: %d" % (MAX_INPUT, MAX_INPUT + 1), "error_type": "validation"},
      "inputs over MAX_INPUT_LENGTH: ModelError, OriginalStatusCode 422, TGI's validation body")
err = model_error(lambda: runtime.invoke_endpoint_with_response_stream(EndpointName=ENDPOINT, ContentType="application/json", Body=json.dumps({"inputs": ["a"], "stream": True})))
check(err is not None and err["Error"]["Code"] == "ModelError" and err["OriginalStatusCode"] == 422,
      "a list on the stream API: ModelError 422 before any event")

# MAX_CONCURRENT_REQUESTS slow generations hold every permit; one more is overloaded
held = []
def slow():
    held.append(invoke({"inputs": ARTICLE, "parameters": {"max_new_tokens": 10}}))
threads = [threading.Thread(target=slow) for _ in range(int(os.environ["MAX_CONCURRENT_REQUESTS"]))]
for th in threads:
    th.start()
time.sleep(float(os.environ["TOKEN_DELAY_MS"]) / 1000 * 3)
err = model_error(lambda: invoke({"inputs": ARTICLE, "parameters": {"max_new_tokens": 10}}))
for th in threads:
    th.join()
check(err is not None and err["OriginalStatusCode"] == 429
      and json.loads(err["OriginalMessage"]) == {"error": "Model is overloaded", "error_type": "overloaded"},
      "past MAX_CONCURRENT_REQUESTS: ModelError, OriginalStatusCode 429, Model is overloaded")
check(len(held) == int(os.environ["MAX_CONCURRENT_REQUESTS"]), "the generations holding the permits all answered")

# --- the list container beside it, unchanged ----------------------------------------------------
listed = invoke({"text_inputs": ["The bridge reopened today. Traffic was heavy."], "max_length": 3}, LIST_ENDPOINT)
check(listed == [["The bridge reopened"]], "the list container answers as before")

print(json.dumps(summary))
sys.exit(1 if failures else 0)
