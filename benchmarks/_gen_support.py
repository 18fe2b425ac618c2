"""Synthetic support-chat examples with realistic leakage structure, for split/leakage benchmarks and tests.

Shape (OpenAI chat JSONL with ftkit metadata): each conversation yields 1-4 examples
(windows of the same ticket, sharing ``metadata.conversation_id``); customers open several
tickets (``metadata.customer_id``); about a third of the conversations are filled-in
templates, so near-duplicates exist across conversations; ``intent``, ``channel``,
``language`` and ``created_at`` are set for stratified and time-based splits.
Everything is derived from a seeded ``random.Random``: the same arguments give the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator

import orjson

INTENTS = ["refund", "shipping", "login", "billing", "cancel", "upgrade", "bug", "address"]
CHANNELS = ["chat", "email", "web"]
LANGS = ["en", "en", "en", "de", "fr"]
WORDS = (
    "order package delivery account password invoice charge card refund subscription plan email "
    "address tracking number week day yesterday today tomorrow help support team issue problem "
    "update change cancel upgrade downgrade receipt payment bank transfer label return box item "
    "size color store app website browser phone error message screen button settings profile "
    "login reset code link verify confirm check status delay carrier warehouse stock price"
).split()
TEMPLATES = {
    "refund": ("I would like a refund for order {n}, the item arrived damaged.",
               "I'm sorry the item arrived damaged. I have started a refund for order {n}; you will see it in a few days."),
    "shipping": ("Where is my package? Order {n} still shows in transit.",
                 "Thanks for your patience. Order {n} is with the carrier and should arrive soon; I will keep an eye on it."),
    "login": ("I cannot log in to my account, the reset link does not work.",
              "Sorry about that. I have sent a fresh reset link; it stays valid for one hour. Let me know if it works."),
    "billing": ("I was charged twice for my subscription this month.",
                "I can see the duplicate charge and have reversed it. It can take a few days to show on your statement."),
}


def _sentence(rng: random.Random, lo: int = 8, hi: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    return " ".join(words).capitalize() + "."


def _free_turns(rng: random.Random, n_turns: int) -> list[dict]:
    messages = []
    for t in range(n_turns):
        role = "user" if t % 2 == 0 else "assistant"
        text = " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
        messages.append({"role": role, "content": text})
    return messages


def examples(n: int, seed: int = 0, start_conversation: int = 0) -> Iterator[dict]:
    """Yield ``n`` examples; conversations are numbered from ``start_conversation``."""
    rng = random.Random(seed)
    made = 0
    conv = start_conversation
    n_customers = max(1, n // 6)
    while made < n:
        conv += 1
        customer = f"cust-{rng.randrange(n_customers):06d}"
        intent = rng.choice(INTENTS)
        channel = rng.choice(CHANNELS)
        language = rng.choice(LANGS)
        day = 1 + (conv * 7919) % 365
        created = f"2025-{1 + (day - 1) // 31 % 12:02d}-{1 + (day - 1) % 28:02d}T{conv % 24:02d}:{conv % 60:02d}:00Z"
        windows = rng.choice([1, 1, 2, 2, 3, 4])
        templated = intent in TEMPLATES and rng.random() < 0.08
        for w in range(windows):
            if made >= n:
                break
            if templated:
                user, agent = TEMPLATES[intent]
                number = rng.randrange(10000, 99999)
                msgs = [{"role": "user", "content": user.format(n=number)}, {"role": "assistant", "content": agent.format(n=number)}]
                msgs += _free_turns(rng, 2 * w)
            else:
                msgs = _free_turns(rng, 2 + 2 * rng.randint(0, 2))
            record = {
                "messages": [{"role": "system", "content": "You are a friendly support agent for Acme."}, *msgs],
                "metadata": {
                    "id": f"c{conv:07d}-w{w}",
                    "conversation_id": f"c{conv:07d}",
                    "customer_id": customer,
                    "intent": intent,
                    "channel": channel,
                    "language": language,
                    "created_at": created,
                },
            }
            made += 1
            yield record


def write(path: str | Path, n: int, seed: int = 0, start_conversation: int = 0) -> Path:
    """Write ``n`` examples to ``path`` (skipped when a file of that name already exists)."""
    path = Path(path)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        for record in examples(n, seed, start_conversation):
            fh.write(orjson.dumps(record) + b"\n")
    tmp.replace(path)
    return path
