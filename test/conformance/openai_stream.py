"""The official Python `openai` client streaming chat from a TGI endpoint through the gateway.

Chat streaming: https://platform.openai.com/docs/api-reference/chat-streaming (chunks of
chat.completion.chunk with deltas, then [DONE]); a stream that fails after it started carries an
`error` object, which the client raises as openai.APIError (openai-python `Stream.__stream__`).

Environment: GATEWAY_URL, MODEL (a TGI endpoint whose tokens come slowly), POISON (the gateway's
LOCAL_FAULT_MODEL_ERROR_PATTERN: the emulated TGI fails mid-generation on it). Output: checks.py.
"""

import os
import time

import openai
from openai import OpenAI

from checks import check, done, expect

client = OpenAI(base_url=os.environ["GATEWAY_URL"].rstrip("/") + "/v1", api_key="unused", max_retries=0, timeout=30)
MODEL = os.environ["MODEL"]
POISON = os.environ["POISON"]
TEXT = ("The city council approved the new tram line on Monday. Construction starts in the spring and takes three years. "
        "The line will connect the airport with the central station. Officials expect ten thousand riders a day.")


@check("chat.completions.create stream=True: content deltas arrive one by one, the first well before the last")
def chat_stream():
    started = time.monotonic()
    arrivals = []
    text = ""
    finish = None
    for chunk in client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": TEXT}], max_tokens=12, stream=True):
        expect(chunk.object == "chat.completion.chunk", "chat.completion.chunk objects", chunk.object)
        for choice in chunk.choices:
            if choice.delta.content:
                arrivals.append(time.monotonic() - started)
                text += choice.delta.content
            if choice.finish_reason is not None:
                finish = choice.finish_reason
    expect(len(arrivals) >= 5, "at least 5 content chunks (one per token)", len(arrivals))
    expect(arrivals[0] < arrivals[-1] / 2, "the first token arrives before half the generation has passed", arrivals)
    expect(finish == "stop", "finish_reason stop", finish)
    plain = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": TEXT}], max_tokens=12)
    expect(text == plain.choices[0].message.content, "the streamed text equals the plain answer", (text, plain.choices[0].message.content))


@check("a generation that fails mid-stream raises openai.APIError after the tokens before it, never a shorter text")
def chat_stream_fails():
    seen = ""
    try:
        for chunk in client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": TEXT + " " + POISON}], max_tokens=40, stream=True):
            for choice in chunk.choices:
                seen += choice.delta.content or ""
    except openai.APIError as err:
        expect("failed" in str(err) or "error" in str(err).lower(), "the error says the generation failed", str(err))
        return
    raise AssertionError(f"the stream ended without an error after {seen!r}")


done()
