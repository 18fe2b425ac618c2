"""A support dataset with planted leaks, for the split and leakage tests.

Planted: (1) the same conversation cut into several examples (shared ``conversation_id``),
(2) the same customer across several tickets (shared ``customer_id``), (3) near-duplicate
template conversations under different conversation and customer ids (only the order number
differs), (4) a few exact duplicates under different ids. Free text is drawn from a large
vocabulary so that nothing else is similar by accident.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson

INTENTS = ["refund", "shipping", "login", "billing"]
TEMPLATE_USER = "Hello, I would like to return order {n} because the blue kettle arrived with a cracked lid and a dented base."
TEMPLATE_AGENT = ("I am very sorry about the kettle from order {n}. I have created a prepaid return label and a full refund "
                  "will follow as soon as the parcel is scanned by the carrier, usually within two working days. You do "
                  "not need the original box: any sturdy packaging works, and the label already carries the return "
                  "address of our warehouse. Once the refund is issued you will receive a confirmation e-mail with the "
                  "amount and the card it goes back to. If you would rather have a replacement kettle instead of the "
                  "money, just reply to this message and I will arrange it straight away at no extra cost to you.")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(f"w{rng.randrange(50_000)}" for _ in range(words)).capitalize() + "."


def _example(conv: str, window: int, customer: str, intent: str, messages: list[dict], day: int) -> dict:
    return {
        "messages": [{"role": "system", "content": "You are Acme's support agent."}, *messages],
        "metadata": {
            "id": f"{conv}-w{window}",
            "conversation_id": conv,
            "customer_id": customer,
            "intent": intent,
            "created_at": f"2025-{1 + day // 28:02d}-{1 + day % 28:02d}T10:00:00Z",
        },
    }


def planted_records(conversations: int = 240, seed: int = 5, start: int = 0) -> list[dict]:
    """Examples in input order; ``start`` offsets the ids so a second call makes *new* data."""
    rng = random.Random(seed)
    records: list[dict] = []
    for c in range(start, start + conversations):
        conv = f"conv-{c:05d}"
        customer = f"cust-{c // 2:05d}"  # two tickets per customer
        intent = INTENTS[c % len(INTENTS)]
        day = c % 300
        if c % 12 == 5:  # a template conversation: one example, near-identical to the others
            number = 10_000 + c
            messages = [{"role": "user", "content": TEMPLATE_USER.format(n=number)},
                        {"role": "assistant", "content": TEMPLATE_AGENT.format(n=number)}]
            records.append(_example(conv, 0, f"tmpl-{c:05d}", "refund", messages, day))
            continue
        history: list[dict] = []
        for window in range(1 + c % 4):  # the same conversation cut into 1-4 examples
            history = history + [{"role": "user", "content": _text(rng, 14)},
                                 {"role": "assistant", "content": _text(rng, 22)}]
            records.append(_example(conv, window, customer, intent, list(history), day))
    # Exact duplicates under other ids (a thread exported twice).
    for k in range(0, len(records), 97):
        copy = orjson.loads(orjson.dumps(records[k]))
        copy["metadata"].update({"id": f"dup-{start}-{k}", "conversation_id": f"dup-{start}-{k}", "customer_id": f"dupc-{start}-{k}"})
        records.append(copy)
    return records


def write(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def naive_random_split(records: list[dict], directory: Path, seed: int = 1) -> list[Path]:
    """What a naive tool does: shuffle examples and cut 80/10/10."""
    rng = random.Random(seed)
    shuffled = list(records)
    rng.shuffle(shuffled)
    n = len(shuffled)
    cuts = {"train": shuffled[: int(0.8 * n)], "validation": shuffled[int(0.8 * n): int(0.9 * n)], "test": shuffled[int(0.9 * n):]}
    directory.mkdir(parents=True, exist_ok=True)
    return [write(directory / f"{name}.jsonl", rows) for name, rows in cuts.items()]
