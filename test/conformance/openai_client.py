"""The official Python `openai` client against the gateway, as a new user would call it.

Every call is one that OpenAI's API reference documents; each check cites the page its expected
answer comes from (https://platform.openai.com/docs/api-reference/...). Clients have short
timeouts and max_retries=0, so a call that hangs fails its check in seconds instead of being
retried for minutes.

Environment: GATEWAY_URL, POISON (the gateway's LOCAL_FAULT_MODEL_ERROR_PATTERN), API_KEY (tenant a), OTHER_API_KEY (tenant b), LIMITED_API_KEY (tenant c,
which spends its whole RATE_LIMIT_MAX of requests per minute), RATE_LIMIT_MAX, MODEL, and optionally
CNN_PATH (the 250 CNN/DailyMail articles, JSONL {"id", "article"}; absent: that check skips).
Output: see checks.py.
"""

import asyncio
import hashlib
import io
import json
import os
import time

import openai
from openai import AsyncOpenAI, OpenAI

from checks import check, done, expect, skip

URL = os.environ["GATEWAY_URL"].rstrip("/") + "/v1"
KEY = os.environ["API_KEY"]
OTHER_KEY = os.environ["OTHER_API_KEY"]
LIMITED_KEY = os.environ["LIMITED_API_KEY"]
# the gateway's LOCAL_FAULT_MODEL_ERROR_PATTERN: the model fails on an input that contains it
POISON = os.environ["POISON"]
RATE_LIMIT_MAX = int(os.environ["RATE_LIMIT_MAX"])
MODEL = os.environ["MODEL"]
CNN_PATH = os.environ.get("CNN_PATH", "")
# seconds; a call the gateway answers at all answers within these on a busy machine
TIMEOUT = 20
UPLOAD_TIMEOUT = 40
BATCH_WAIT = 90

client = OpenAI(base_url=URL, api_key=KEY, max_retries=0, timeout=TIMEOUT)
other = OpenAI(base_url=URL, api_key=OTHER_KEY, max_retries=0, timeout=TIMEOUT)
# the key is the gateway's Authorization: Bearer; this one is not in API_KEYS
stranger = OpenAI(base_url=URL, api_key="sk-not-a-key-of-this-gateway", max_retries=0, timeout=TIMEOUT)
uploads = client.with_options(timeout=UPLOAD_TIMEOUT)

TEXT = "The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring."
OTHER_TEXT = "Heavy rain flooded the old town overnight. Firefighters pumped out cellars until dawn."


def error_of(cls, call, *args, **kwargs):
    """The exception of class `cls` that call raises (an AssertionError if it succeeds or raises another)."""
    try:
        call(*args, **kwargs)
    except cls as err:
        return err
    except openai.APIError as err:
        raise AssertionError(f"expected {cls.__name__}, got {type(err).__name__}: {err}") from err
    raise AssertionError(f"expected {cls.__name__}, the call succeeded")


def batch_line(custom_id, body, url="/v1/completions"):
    """One line of a batch input file (https://platform.openai.com/docs/api-reference/batch/request-input)."""
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body})


def jsonl(lines):
    return ("\n".join(lines) + "\n").encode()


TERMINAL = {"completed", "failed", "cancelled", "expired"}


def wait_for_batch(batch_id, timeout=BATCH_WAIT):
    """Polls batches.retrieve until the batch is terminal; returns it and the statuses seen."""
    until = time.monotonic() + timeout
    seen = []
    while True:
        batch = client.batches.retrieve(batch_id)
        if not seen or seen[-1] != batch.status:
            seen.append(batch.status)
        if batch.status in TERMINAL:
            return batch, seen
        expect(time.monotonic() < until, f"batch {batch_id} terminal within {timeout} s", " -> ".join(seen))
        # every poll counts against the tenant's RATE_LIMIT_MAX per minute
        time.sleep(0.5)


def output_lines(file_id):
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines() if line]


# ---------------------------------------------------------------------------------------------
# Models: https://platform.openai.com/docs/api-reference/models/list and /models/retrieve
# ---------------------------------------------------------------------------------------------
@check("models.list: the gateway's model, object model")
def models_list():
    page = client.models.list()
    ids = [m.id for m in page.data]
    expect(MODEL in ids, f"{MODEL} listed", ids)
    expect(all(m.object == "model" for m in page.data), "every entry is object 'model'")


@check("models.retrieve: one model by id")
def models_retrieve():
    model = client.models.retrieve(MODEL)
    expect(model.id == MODEL and model.object == "model", f"model {MODEL}", model)


# ---------------------------------------------------------------------------------------------
# Completions: https://platform.openai.com/docs/api-reference/completions/create
# ---------------------------------------------------------------------------------------------
@check("completions.create: a prompt list with n=2, choices in prompt_index * n + k order")
def completions():
    res = client.completions.create(model=MODEL, prompt=[TEXT, OTHER_TEXT], n=2, max_tokens=8, temperature=0.8, seed=7)
    expect(res.object == "text_completion", "object text_completion", res.object)
    expect(res.id.startswith("cmpl-"), "id cmpl-...", res.id)
    expect([c.index for c in res.choices] == [0, 1, 2, 3], "4 choices indexed 0..3", [c.index for c in res.choices])
    for c in res.choices[:2]:
        expect(any(w in c.text for w in ("council", "tram", "Construction")), "choices 0 and 1 answer the first prompt", c.text)
    for c in res.choices[2:]:
        expect(any(w in c.text for w in ("rain", "Firefighters", "town")), "choices 2 and 3 answer the second prompt", c.text)
    expect(all(c.finish_reason == "stop" for c in res.choices), "finish_reason stop")
    expect(res.usage.total_tokens == res.usage.prompt_tokens + res.usage.completion_tokens, "usage adds up", res.usage)
    return res


@check("completions.create stream=True: chunks of text_completion to [DONE], the same text as without stream")
def completions_stream():
    plain = client.completions.create(model=MODEL, prompt=TEXT, max_tokens=6)
    text = ""
    finish = []
    for chunk in client.completions.create(model=MODEL, prompt=TEXT, max_tokens=6, stream=True):
        expect(chunk.object == "text_completion", "chunk object text_completion", chunk.object)
        for c in chunk.choices:
            text += c.text
            if c.finish_reason is not None:
                finish.append(c.finish_reason)
    expect(text == plain.choices[0].text, "streamed text equals the plain answer", (text, plain.choices[0].text))
    expect(finish == ["stop"], "one finish_reason stop", finish)


# ---------------------------------------------------------------------------------------------
# Chat: https://platform.openai.com/docs/api-reference/chat/create and /chat-streaming
# ---------------------------------------------------------------------------------------------
@check("chat.completions.create: an assistant message drawn from the user's text")
def chat():
    res = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": TEXT}], max_tokens=6)
    expect(res.object == "chat.completion", "object chat.completion", res.object)
    expect(res.id.startswith("chatcmpl-"), "id chatcmpl-...", res.id)
    expect(len(res.choices) == 1 and res.choices[0].message.role == "assistant", "one assistant choice", res.choices)
    content = res.choices[0].message.content
    expect(content and TEXT.startswith(content), "the lead words of the text (the local engine is extractive)", content)
    expect(res.choices[0].finish_reason == "stop", "finish_reason stop", res.choices[0].finish_reason)
    return content


@check("chat.completions.create stream=True with include_usage: chat.completion.chunk deltas, then usage", needs=["chat.completions.create: an assistant message drawn from the user's text"])
def chat_stream():
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": TEXT}], max_tokens=6, stream=True, stream_options={"include_usage": True}
    )
    content, ids, roles, finish, usage = "", set(), [], [], None
    for chunk in stream:
        expect(chunk.object == "chat.completion.chunk", "chunk object chat.completion.chunk", chunk.object)
        ids.add(chunk.id)
        for c in chunk.choices:
            if c.delta.role is not None:
                roles.append(c.delta.role)
            content += c.delta.content or ""
            if c.finish_reason is not None:
                finish.append(c.finish_reason)
        if chunk.usage is not None:
            usage = chunk.usage
    expect(len(ids) == 1, "every chunk has the same id", ids)
    expect(roles == ["assistant"], "the role once, in the first delta", roles)
    expect(content == chat, "streamed content equals the plain answer", (content, chat))
    expect(finish == ["stop"], "one finish_reason stop", finish)
    expect(usage is not None and usage.completion_tokens > 0, "a last chunk with usage (stream_options.include_usage)", usage)


# ---------------------------------------------------------------------------------------------
# Headers: "Debugging requests" (https://platform.openai.com/docs/api-reference/debugging-requests):
# every response carries x-request-id; the SDKs expose it as `_request_id` on the object and as
# `request_id` on an APIStatusError.
# ---------------------------------------------------------------------------------------------
@check("with_raw_response: status 200, JSON content-type, the parsed object")
def raw_response():
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=[{"role": "user", "content": TEXT}], max_tokens=4)
    expect(raw.status_code == 200, "status 200", raw.status_code)
    expect(raw.headers.get("content-type", "").startswith("application/json"), "content-type application/json", raw.headers.get("content-type"))
    parsed = raw.parse()
    expect(parsed.object == "chat.completion", "parse() gives the chat.completion", parsed)
    return raw


@check("x-request-id on every response, exposed as _request_id; distinct per request", needs=["with_raw_response: status 200, JSON content-type, the parsed object"])
def request_id():
    first = raw_response.headers.get("x-request-id")
    expect(first, "an x-request-id header", dict(raw_response.headers))
    expect(raw_response.parse()._request_id == first, "_request_id is the header", raw_response.parse()._request_id)
    second = client.models.with_raw_response.list().headers.get("x-request-id")
    expect(second and second != first, "another request, another id", (first, second))


@check("x-request-id on an error response, exposed as APIStatusError.request_id")
def error_request_id():
    err = error_of(openai.NotFoundError, client.models.retrieve, "no-such-model")
    expect(err.request_id, "request_id on the error", err.response.headers)
    expect(err.request_id == err.response.headers.get("x-request-id"), "the header's value")


# ---------------------------------------------------------------------------------------------
# Error classes: https://platform.openai.com/docs/guides/error-codes (status -> exception class
# in the client), body {"error": {"message", "type", "param", "code"}} as the reference shows it
# ---------------------------------------------------------------------------------------------
@check("BadRequestError (400): an unsupported parameter, named in param")
def bad_request():
    err = error_of(openai.BadRequestError, client.completions.create, model=MODEL, prompt=TEXT, logit_bias={"50256": -100})
    expect(err.status_code == 400, "status 400", err.status_code)
    expect(err.param == "logit_bias" and err.type == "invalid_request_error", "param logit_bias, type invalid_request_error", err.body)
    expect("logit_bias" in err.message, "the message names the field", err.message)


@check("NotFoundError (404): an unknown model, code model_not_found")
def unknown_model():
    err = error_of(openai.NotFoundError, client.chat.completions.create, model="gpt-4o", messages=[{"role": "user", "content": TEXT}])
    expect(err.status_code == 404 and err.code == "model_not_found" and err.param == "model", "404 model_not_found on model", err.body)


@check("InternalServerError (5xx): the model fails on one prompt of a list, param names it")
def model_error():
    err = error_of(openai.InternalServerError, client.completions.create, model=MODEL, prompt=[TEXT, f"{POISON} in this text."])
    expect(err.status_code >= 500 and err.type == "server_error", "a 5xx server_error", err.body)
    expect(err.param == "prompt[1]", "param prompt[1]", err.param)


@check("AuthenticationError (401): a key the gateway does not know")
def wrong_key():
    err = error_of(openai.AuthenticationError, stranger.models.list)
    expect(err.status_code == 401, "status 401", err.status_code)
    expect(err.code == "invalid_api_key", "code invalid_api_key", err.body)


@check("NotFoundError (404): files.retrieve and batches.retrieve of ids that do not exist")
def missing_ids():
    err = error_of(openai.NotFoundError, client.files.retrieve, "file-" + "0" * 32)
    expect(err.code == "file_not_found", "code file_not_found", err.body)
    err = error_of(openai.NotFoundError, client.batches.retrieve, "batch_" + "0" * 32)
    expect(err.code == "batch_not_found", "code batch_not_found", err.body)


@check("BadRequestError (400): files.create with purpose fine-tune, named in param")
def bad_purpose():
    err = error_of(openai.BadRequestError, client.files.create, file=("in.jsonl", jsonl([batch_line("a", {"model": MODEL, "prompt": TEXT})])), purpose="fine-tune")
    expect(err.param == "purpose", "param purpose", err.body)


@check("BadRequestError (400): a batch input line that is not JSON, named by line number")
def bad_line():
    body = jsonl([batch_line("a", {"model": MODEL, "prompt": TEXT}), "{not json"])
    err = error_of(openai.BadRequestError, client.files.create, file=("in.jsonl", body), purpose="batch")
    expect("line 2" in err.message, "the message names line 2", err.message)


async def _burst(n):
    async with AsyncOpenAI(base_url=URL, api_key=LIMITED_KEY, max_retries=0, timeout=TIMEOUT * 2) as limited:
        return await asyncio.gather(*[limited.models.list() for _ in range(n)], return_exceptions=True)


@check("RateLimitError (429): a tenant past RATE_LIMIT_MAX requests in a minute, with retry-after")
def rate_limited():
    results = asyncio.run(_burst(RATE_LIMIT_MAX + 5))
    errors = [r for r in results if isinstance(r, BaseException)]
    other_errors = [f"{type(e).__name__}: {e}" for e in errors if not isinstance(e, openai.RateLimitError)]
    expect(not other_errors, "only RateLimitError", other_errors[:3])
    expect(len(results) - len(errors) == RATE_LIMIT_MAX, f"{RATE_LIMIT_MAX} served, the rest refused", len(results) - len(errors))
    err = errors[0]
    expect(err.status_code == 429 and int(err.response.headers.get("retry-after", "0")) > 0, "429 with retry-after seconds", (err.status_code, dict(err.response.headers)))
    # the limit is the tenant's own: another tenant is served meanwhile
    expect(MODEL in [m.id for m in client.models.list()], "tenant a still served")


# ---------------------------------------------------------------------------------------------
# Files: https://platform.openai.com/docs/api-reference/files (create, retrieve, list,
# retrieve-contents, delete) and the File object
# ---------------------------------------------------------------------------------------------
SMALL = [batch_line(f"r-{i}", {"model": MODEL, "prompt": f"Report {i} opens with this lead sentence. A second one follows.", "max_tokens": 5}) for i in (3, 1, 2)]


@check("files.create: a small batch input file, the File object")
def small_file():
    body = jsonl(SMALL)
    f = client.files.create(file=("small.jsonl", body), purpose="batch")
    expect(f.object == "file" and f.id.startswith("file-"), "a file-... File object", f)
    expect(f.bytes == len(body), f"bytes {len(body)}", f.bytes)
    expect(f.filename == "small.jsonl" and f.purpose == "batch", "filename and purpose as sent", (f.filename, f.purpose))
    return f


FILE = "files.create: a small batch input file, the File object"


@check("files.retrieve: the same File object", needs=[FILE])
def file_retrieve():
    f = client.files.retrieve(small_file.id)
    expect((f.id, f.bytes, f.filename, f.purpose) == (small_file.id, small_file.bytes, small_file.filename, small_file.purpose), "the same fields", f)


@check("files.content: the bytes as uploaded", needs=[FILE])
def file_content():
    got = client.files.content(small_file.id).content
    expect(got == jsonl(SMALL), "identical bytes", got[:200])


@check("files.list: the file, and auto-pagination with limit=1 walks every page", needs=[FILE])
def file_list():
    ids = [f.id for f in client.files.list()]
    expect(small_file.id in ids, "the uploaded file listed", ids)
    paged = [f.id for f in client.files.list(limit=1)]
    expect(paged == ids, "limit=1 pages (after=last_id) give the same files in the same order", (paged, ids))


@check("tenants: another key's client gets NotFoundError for the file", needs=[FILE])
def file_other_tenant():
    error_of(openai.NotFoundError, other.files.retrieve, small_file.id)
    expect(small_file.id not in [f.id for f in other.files.list()], "not in the other tenant's list")


# ---------------------------------------------------------------------------------------------
# Batches: https://platform.openai.com/docs/api-reference/batch (create, retrieve, list, cancel),
# the Batch object (/batch/object) and the output lines (/batch/request-output)
# ---------------------------------------------------------------------------------------------
@check("batches.create: in_progress, request_counts.total, metadata kept", needs=[FILE])
def small_batch():
    b = client.batches.create(input_file_id=small_file.id, endpoint="/v1/completions", completion_window="24h", metadata={"suite": "python"})
    expect(b.object == "batch" and b.id.startswith("batch_"), "a batch_... Batch object", b)
    expect(b.status in ("validating", "in_progress"), "validating or in_progress", b.status)
    expect(b.input_file_id == small_file.id and b.endpoint == "/v1/completions" and b.completion_window == "24h", "the request's fields", b)
    expect(b.metadata == {"suite": "python"}, "metadata as sent", b.metadata)
    expect(b.request_counts.total == 3, "request_counts.total 3", b.request_counts)
    return b


BATCH = "batches.create: in_progress, request_counts.total, metadata kept"


@check("batches.retrieve until completed; the output file has one line per request in input order", needs=[BATCH])
def small_batch_done():
    b, seen = wait_for_batch(small_batch.id)
    expect(b.status == "completed", "completed", " -> ".join(seen))
    expect((b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (3, 3, 0), "3 completed, 0 failed", b.request_counts)
    expect(b.output_file_id, "an output_file_id", b)
    lines = output_lines(b.output_file_id)
    expect([line["custom_id"] for line in lines] == ["r-3", "r-1", "r-2"], "custom_ids in input order", [line.get("custom_id") for line in lines])
    for i, line in zip((3, 1, 2), lines):
        expect(line["error"] is None and line["response"]["status_code"] == 200, "status_code 200, error null", line)
        expect(line["response"]["body"]["choices"][0]["text"] == f"Report {i} opens with this", "the answer to its own prompt", line)
    expect(client.files.retrieve(b.output_file_id).purpose == "batch_output", "the output file's purpose is batch_output")
    return b


@check("batches.list: the batch, and auto-pagination with limit=1", needs=[BATCH])
def batch_list():
    ids = [b.id for b in client.batches.list()]
    expect(small_batch.id in ids, "the batch listed", ids)
    expect([b.id for b in client.batches.list(limit=1)] == ids, "limit=1 pages give the same batches")
    error_of(openai.NotFoundError, other.batches.retrieve, small_batch.id)


@check("ConflictError (409): batches.cancel of a completed batch", needs=["batches.retrieve until completed; the output file has one line per request in input order"])
def cancel_completed():
    err = error_of(openai.ConflictError, client.batches.cancel, small_batch.id)
    expect(err.status_code == 409, "status 409", err.status_code)


@check("a batch with a request the model fails on: completed, the failure in the error file with its custom_id")
def batch_with_failure():
    lines = [
        batch_line("good", {"model": MODEL, "prompt": TEXT, "max_tokens": 2}),
        # other parameters, so another transform job: the failure does not take "good" with it
        batch_line("bad", {"model": MODEL, "prompt": f"{POISON} in this text.", "max_tokens": 3}),
    ]
    f = client.files.create(file=("failing.jsonl", jsonl(lines)), purpose="batch")
    b, seen = wait_for_batch(client.batches.create(input_file_id=f.id, endpoint="/v1/completions", completion_window="24h").id)
    expect(b.status == "completed", "completed (some requests succeeded)", " -> ".join(seen))
    expect((b.request_counts.completed, b.request_counts.failed) == (1, 1), "1 completed, 1 failed", b.request_counts)
    expect([line["custom_id"] for line in output_lines(b.output_file_id)] == ["good"], "the output file holds the good request")
    errors = output_lines(b.error_file_id)
    expect([line["custom_id"] for line in errors] == ["bad"] and errors[0]["response"] is None, "the error file holds the bad one", errors)
    expect(errors[0]["error"]["code"] and POISON in errors[0]["error"]["message"], "an error code and the model's message", errors[0]["error"])


# 100 short lines (about 14 KB): at the suite's LOCAL_LATENCY_BASE_MS per model call the job
# runs for seconds, so the cancel lands while it is in progress
CANCELLED = 100
CANCEL_LINES = [batch_line(f"c-{i}", {"model": MODEL, "prompt": f"Line {i}.", "max_tokens": 1}) for i in range(CANCELLED)]


@check("batches.cancel of a running batch: cancelling, then cancelled, what ran is accounted for")
def cancel_running():
    f = client.files.create(file=("cancel.jsonl", jsonl(CANCEL_LINES)), purpose="batch")
    b = client.batches.create(input_file_id=f.id, endpoint="/v1/completions", completion_window="24h")
    cancelling = client.batches.cancel(b.id)
    expect(cancelling.status in ("cancelling", "cancelled"), "cancelling (or cancelled)", cancelling.status)
    expect(cancelling.cancelling_at is not None, "cancelling_at set", cancelling)
    done_batch, seen = wait_for_batch(b.id)
    expect(done_batch.status == "cancelled", "cancelled", " -> ".join(seen))
    counts = done_batch.request_counts
    expect(counts.total == CANCELLED and counts.completed + counts.failed == CANCELLED, "every request counted as completed or failed", counts)
    expect(counts.completed < CANCELLED, "not every request ran", counts)


@check("files.delete: deleted, then NotFoundError", needs=[FILE])
def file_delete():
    res = client.files.delete(small_file.id)
    expect(res.id == small_file.id and res.deleted is True, "deleted: true", res)
    error_of(openai.NotFoundError, client.files.retrieve, small_file.id)


# ---------------------------------------------------------------------------------------------
# The async client: 50 calls at once (https://github.com/openai/openai-python#async-usage)
# ---------------------------------------------------------------------------------------------
CONCURRENT = 50


async def _fifty():
    async with AsyncOpenAI(base_url=URL, api_key=KEY, max_retries=0, timeout=TIMEOUT * 2) as aclient:
        calls = [
            aclient.chat.completions.with_raw_response.create(
                model=MODEL, messages=[{"role": "user", "content": f"Item {i} is the subject of this sentence. Nothing follows."}], max_tokens=3
            )
            for i in range(CONCURRENT)
        ]
        return await asyncio.gather(*calls, return_exceptions=True)


@check(f"AsyncOpenAI: {CONCURRENT} concurrent chat completions, each the answer to its own prompt")
def fifty():
    results = asyncio.run(_fifty())
    failed = [r for r in results if isinstance(r, BaseException)]
    expect(not failed, f"no call failed ({len(failed)} did)", [f"{type(e).__name__}: {e}" for e in failed[:3]])
    for i, raw in enumerate(results):
        content = raw.parse().choices[0].message.content
        expect(content == f"Item {i} is", f"call {i} answered 'Item {i} is'", content)
    return results


@check(f"AsyncOpenAI: {CONCURRENT} distinct x-request-id", needs=[f"AsyncOpenAI: {CONCURRENT} concurrent chat completions, each the answer to its own prompt"])
def async_request_ids():
    ids = [raw.headers.get("x-request-id") for raw in fifty]
    expect(all(ids) and len(set(ids)) == CONCURRENT, f"{CONCURRENT} distinct ids", ids[:3])


# ---------------------------------------------------------------------------------------------
# Real sizes: the 250 CNN articles (about 1 MB) as a chat batch, and a generated 20 MB file
# (OpenAI's limit for a batch input file is 200 MB: https://platform.openai.com/docs/api-reference/batch/create)
# ---------------------------------------------------------------------------------------------
CNN = "250 CNN articles (~1 MB): files.create, a chat batch to completed, one summary per article in order"
if not CNN_PATH or not os.path.exists(CNN_PATH):
    skip(CNN, f"the CNN/DailyMail sample is absent ({CNN_PATH or 'CNN_PATH unset'}); it is read from ../shared/data at run time")
else:
    @check(CNN)
    def cnn():
        with open(CNN_PATH, encoding="utf-8") as fh:
            articles = [json.loads(line) for line in fh if line.strip()]
        expect(len(articles) == 250, "250 articles in the sample", len(articles))
        body = jsonl([
            batch_line(a["id"], {"model": MODEL, "messages": [{"role": "user", "content": "Briefly summarize this text: " + a["article"]}], "max_tokens": 40}, "/v1/chat/completions")
            for a in articles
        ])
        expect(len(body) > 800_000, "about 1 MB", len(body))
        f = uploads.files.create(file=("cnn-250.jsonl", body), purpose="batch")
        expect(f.bytes == len(body), f"bytes {len(body)}", f.bytes)
        b = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
        b, seen = wait_for_batch(b.id)
        expect(b.status == "completed", "completed", " -> ".join(seen))
        expect(b.request_counts.completed == 250 and b.request_counts.failed == 0, "250 completed", b.request_counts)
        lines = output_lines(b.output_file_id)
        expect([line["custom_id"] for line in lines] == [a["id"] for a in articles], "one line per article, in input order")
        for a, line in zip(articles, lines):
            summary = line["response"]["body"]["choices"][0]["message"]["content"]
            words = summary.split()
            expect(0 < len(words) <= 40, "a summary of 1..max_tokens words", summary)
            expect(words[-1] in a["article"], "drawn from its own article", (a["id"], summary))


BIG_LINES = 5_000
BIG = f"a generated 20 MB file ({BIG_LINES} requests): files.create, files.content identical, batches.create and cancel"


@check(BIG)
def big():
    filler = " ".join(["lorem ipsum dolor sit amet"] * 150)  # ~4 KB of prompt per line
    body = jsonl([batch_line(f"big-{i}", {"model": MODEL, "prompt": f"Request {i}. {filler}", "max_tokens": 3}) for i in range(BIG_LINES)])
    expect(19_000_000 < len(body) < 21_000_000, "about 20 MB", len(body))
    f = uploads.files.create(file=("big.jsonl", io.BytesIO(body)), purpose="batch")
    expect(f.bytes == len(body), f"bytes {len(body)}", f.bytes)
    got = uploads.files.content(f.id).content
    expect(hashlib.sha256(got).hexdigest() == hashlib.sha256(body).hexdigest(), "files.content gives the 20 MB back unchanged", len(got))
    b = uploads.batches.create(input_file_id=f.id, endpoint="/v1/completions", completion_window="24h")
    expect(b.request_counts.total == BIG_LINES, f"request_counts.total {BIG_LINES}", b.request_counts)
    uploads.batches.cancel(b.id)
    b, seen = wait_for_batch(b.id)
    expect(b.status == "cancelled", "cancelled", " -> ".join(seen))
    uploads.files.delete(f.id)


done()
