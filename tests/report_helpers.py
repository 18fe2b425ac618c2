"""Deterministic support-chat datasets for the stats / cost / report / pipeline tests.

Also an *independent* implementation of the figures ``ftkit stats`` reports (token counts
straight from tiktoken with OpenAI's documented chat framing, percentiles with numpy), so
the tests compare ftkit against a second computation rather than against itself.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import tiktoken

SYSTEM_PROMPTS = [
    "You are Ava, the support assistant of Acme Cloud. Be warm, brief and precise. Ask before acting.",
    "You are a support agent. Reply in two sentences or fewer.",
]
BEHAVIOR_REPLIES = [
    "I'm sorry to hear that! Could you tell me the order number so I can take a look?",
    "Thanks for your patience. Could you try signing out and back in, then tell me what you see?",
    "I understand how frustrating that is. Can you share a screenshot of the error message?",
    "Happy to help with that. Which device are you using when this happens?",
    "Got it, thank you. I've noted that down; is there anything else I can help you with today?",
]
KNOWLEDGE_REPLIES = [
    "Our Pro plan costs $49 per month and you can get a refund within 30 days of purchase.",
    "Shipping to Canada takes 5-7 business days and costs $12.99.",
    "You can reset it under Settings > Security > Reset password. The Business plan includes SSO.",
    "Our Pro plan costs $49 per month; the Business plan costs $99 per month.",
]
USER_TURNS = [
    "Hi, my app keeps crashing when I open the dashboard.",
    "How much is the Pro plan and can I get my money back?",
    "I was charged twice this month, what happened?",
    "Where do I change my password?",
    "My package has not arrived yet.",
]


def make_records(n: int = 60, *, seed: int = 7, knowledge_every: int = 4, long_example: bool = True) -> list[dict[str, Any]]:
    """``n`` chat examples: behavior replies, every ``knowledge_every``-th one teaching facts."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for i in range(n):
        messages: list[dict[str, Any]] = []
        if i % 5 != 4:  # most examples carry a system prompt
            messages.append({"role": "system", "content": SYSTEM_PROMPTS[0 if i % 3 else 1]})
        turns = 1 + (i % 3)
        for t in range(turns):
            messages.append({"role": "user", "content": rng.choice(USER_TURNS) + (" " + "Please help." * rng.randint(0, 6)).rstrip()})
            knowledge = knowledge_every and i % knowledge_every == 0 and t == turns - 1
            reply = rng.choice(KNOWLEDGE_REPLIES if knowledge else BEHAVIOR_REPLIES)
            message: dict[str, Any] = {"role": "assistant", "content": reply}
            if t < turns - 1 and i % 2 == 0:
                message["weight"] = 0
            messages.append(message)
        record = {"messages": messages, "metadata": {"id": f"ex{i}", "conversation_id": f"conv{i // 2}"}}
        records.append(record)
    if long_example and n:
        # One example far over gpt-3.5-turbo-0613's 4,096-token limit (but under 16,385).
        text = " ".join(f"Step {k}: check the cable, restart the router and wait one minute." for k in range(400))
        records[n // 2]["messages"][-1]["content"] = text
    return records


def write_jsonl(path: Path, records: Iterable[Any], *, extra_lines: Iterable[str] = ()) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        for line in extra_lines:
            fh.write(line + "\n")
    return path


# --------------------------------------------------------------------------- independent figures


def reference_counts(records: Iterable[dict[str, Any]], encoding: str = "o200k_base") -> list[dict[str, Any]]:
    """Per example: total, trainable and per-message tokens, by OpenAI's cookbook method.

    3 tokens per message + its content tokens (+1 for a name), +3 to prime the reply;
    trainable = assistant messages whose ``weight`` is not 0. (No tools in these fixtures.)
    """
    enc = _encoding(encoding)
    out = []
    for record in records:
        per_message = []
        trainable = 0
        for message in record["messages"]:
            n = 3 + len(enc.encode_ordinary(message.get("content") or ""))
            if message.get("name"):
                n += 1
            per_message.append((message["role"], n))
            if message["role"] == "assistant" and message.get("weight", 1) != 0:
                trainable += n
        total = sum(n for _, n in per_message) + 3
        out.append({"total": total, "trainable": trainable, "prompt": total - trainable, "per_message": per_message})
    return out


def _encoding(name: str) -> tiktoken.Encoding:
    # No network here: tiktoken's own download is replaced by ftkit's bundled, sha256-verified
    # rank files; the object is a plain tiktoken.Encoding and the counting above is our own.
    from toolkit.tokens import get_encoding

    enc = get_encoding(name)
    assert isinstance(enc, tiktoken.Encoding)
    return enc


def percentiles(values: list[int]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {f"p{p}": round(float(np.percentile(arr, p)), 2) for p in (50, 90, 95, 99)}
