"""LangChain's ChatOpenAI (langchain-openai) against the gateway: invoke, batch, stream.

ChatOpenAI speaks OpenAI's Chat Completions API (https://platform.openai.com/docs/api-reference/chat/create,
streaming: https://platform.openai.com/docs/api-reference/chat-streaming) through the official
`openai` client; its Runnable methods are LangChain's
(https://python.langchain.com/docs/concepts/runnables/). Short timeout and max_retries=0, so a hang
fails in seconds.

Environment: GATEWAY_URL, API_KEY, MODEL. Output: see checks.py.
"""

import os

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from checks import check, done, expect

URL = os.environ["GATEWAY_URL"].rstrip("/") + "/v1"
MODEL = os.environ["MODEL"]

llm = ChatOpenAI(model=MODEL, base_url=URL, api_key=os.environ["API_KEY"], max_tokens=6, max_retries=0, timeout=20)

TEXTS = [
    "The city council voted on Tuesday to extend the tram line to the airport. Construction starts next spring.",
    "Heavy rain flooded the old town overnight. Firefighters pumped out cellars until dawn.",
    "The museum reopens on Saturday after two years of repairs. Entry is free for the first week.",
]


def lead(text, words=6):
    """The local engine's answer: the text's first words, up to max_tokens."""
    return " ".join(text.split()[:words])


@check("ChatOpenAI.invoke: an AIMessage with the answer, finish_reason stop, the model's name")
def invoke():
    msg = llm.invoke(TEXTS[0])
    expect(isinstance(msg, AIMessage), "an AIMessage", type(msg))
    expect(msg.content == lead(TEXTS[0]), "the lead words of the text", msg.content)
    expect(msg.response_metadata.get("finish_reason") == "stop", "finish_reason stop", msg.response_metadata)
    expect(msg.response_metadata.get("model_name") == MODEL, f"model_name {MODEL}", msg.response_metadata)
    expect(msg.usage_metadata and msg.usage_metadata["output_tokens"] > 0, "usage_metadata from the response's usage", msg.usage_metadata)
    return msg


@check("ChatOpenAI.invoke with a system and a user message (the flattened conversation)")
def invoke_messages():
    msg = llm.invoke([SystemMessage("Be brief."), HumanMessage(TEXTS[1])])
    # a conversation of several messages is sent as "System: ...\nUser: ...\nAssistant:" (README)
    expect(msg.content.startswith("System: Be brief."), "the engine's lead words of the flattened prompt", msg.content)


@check("ChatOpenAI.batch: one AIMessage per input, in input order")
def batch():
    msgs = llm.batch(TEXTS)
    expect([m.content for m in msgs] == [lead(t) for t in TEXTS], "each answer to its own input, in order", [m.content for m in msgs])


@check("ChatOpenAI.stream: AIMessageChunks that add up to the invoke answer", needs=["ChatOpenAI.invoke: an AIMessage with the answer, finish_reason stop, the model's name"])
def stream():
    chunks = list(llm.stream(TEXTS[0]))
    expect(chunks and all(isinstance(c, AIMessageChunk) for c in chunks), "AIMessageChunks", [type(c) for c in chunks])
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    expect(total.content == invoke.content, "the chunks add up to the invoke answer", (total.content, invoke.content))
    expect(total.response_metadata.get("finish_reason") == "stop", "finish_reason stop", total.response_metadata)


done()
