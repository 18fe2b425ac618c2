"""Generate a realistic synthetic support-chat dataset (and a split manifest) for benchmarks.

    python3 benchmarks/gen_support_data.py --examples 200000 --out benchmarks/_data/support_200k.jsonl

Behavior replies (empathy, clarifying questions, generic troubleshooting) are mixed with
knowledge replies (prices, policies, plan names, UI paths) at about one in five, across
several system prompts, multi-turn conversations, ``weight: 0`` on earlier turns and
occasional tool calls. Deterministic for a given ``--seed``; written streaming.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

SYSTEMS = [
    "You are Ava, the support assistant of Acme Cloud. Be warm, brief and precise. Ask before acting.",
    "You are Acme Cloud's support agent. Answer in at most three sentences and never guess account details.",
    "You are a helpful, friendly support agent for Acme Cloud. Use the tools to look up orders.",
]
USERS = [
    "Hi, my app keeps crashing when I open the dashboard.",
    "How much is the Pro plan and can I get my money back?",
    "I was charged twice this month, what happened?",
    "Where do I change my password?",
    "My package has not arrived yet, it has been a week.",
    "Can I add a second user to my account?",
    "The export to CSV button does nothing.",
    "Do you ship to Canada?",
    "I want to cancel my subscription.",
    "The mobile app says my session expired every few minutes.",
]
BEHAVIOR = [
    "I'm sorry to hear that! Could you tell me the order number so I can take a look?",
    "Thanks for your patience. Could you try signing out and back in, then tell me what you see?",
    "I understand how frustrating that is. Can you share a screenshot of the error message?",
    "Happy to help with that. Which device and browser are you using when this happens?",
    "Got it, thank you. I've noted that down; is there anything else I can help you with today?",
    "Let's sort this out together. First, could you clear the app cache and try once more?",
    "Thanks for flagging this. I'll need your account email to look into the charge; could you confirm it?",
]
KNOWLEDGE = [
    "Our Pro plan costs $49 per month and you can get a refund within 30 days of purchase.",
    "Shipping to Canada takes 5-7 business days and costs $12.99.",
    "You can reset it under Settings > Security > Reset password. The Business plan includes SSO.",
    "The Team plan costs $99 per month and includes up to 10 users.",
    "Refunds aren't possible after 30 days, but you can downgrade to the Starter plan for $9 per month.",
    "Go to Billing > Invoices > Export to download them; exports are limited to 10,000 rows.",
]
CHANNELS = ["chat", "email", "whatsapp"]
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up an order's shipping status.",
        "parameters": {"type": "object", "properties": {"order": {"type": "integer"}}, "required": ["order"]},
    },
}


def example(rng: random.Random, i: int) -> dict:
    messages: list[dict] = []
    if i % 7 != 6:
        messages.append({"role": "system", "content": SYSTEMS[i % len(SYSTEMS) if i % 4 else 0]})
    turns = 1 + rng.randrange(3)
    for t in range(turns):
        user = rng.choice(USERS)
        if rng.random() < 0.03:  # leaked personal data, as real transcripts have
            user += f" My email is customer{i}@example.com and my phone is +1 415 555 {1000 + i % 9000:04d}."
        messages.append({"role": "user", "content": user})
        last = t == turns - 1
        if last and i % 11 == 0:
            call_id = f"call_{i}"
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "lookup_order", "arguments": json.dumps({"order": 1000 + i})}}]})
            messages.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps({"status": "shipped", "eta": "2 days"})})
            messages.append({"role": "assistant", "content": "Your order has shipped and should arrive in 2 days."})
            continue
        reply = rng.choice(KNOWLEDGE if (last and rng.random() < 0.2) else BEHAVIOR)
        if rng.random() < 0.15:
            reply += " " + " ".join(rng.choice(BEHAVIOR) for _ in range(rng.randrange(1, 6)))
        if rng.random() < 0.02:  # model artifacts that slipped into the data
            reply = "As an AI language model, I cannot see your account. " + reply
        message: dict = {"role": "assistant", "content": reply}
        if not last and rng.random() < 0.5:
            message["weight"] = 0
        messages.append(message)
    conv = f"conv{i // 3}"
    record: dict = {"messages": messages}
    if any(m.get("tool_calls") for m in messages):
        record["tools"] = [TOOL]
    return {
        **record,
        "metadata": {"id": f"ex{i}", "conversation_id": conv, "channel": CHANNELS[int(hashlib.sha1(conv.encode()).hexdigest(), 16) % 3]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    parser.add_argument("--manifest", help="also write a split_manifest.json (80/10/10 by conversation)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    splits = {name: {"examples": 0, "groups": set(), "channels": {}} for name in ("train", "validation", "test")}
    with open(out, "w", encoding="utf-8") as fh:
        for i in range(args.examples):
            record = example(rng, i)
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            if args.manifest:
                conv = record["metadata"]["conversation_id"]
                bucket = int(hashlib.sha256(conv.encode()).hexdigest(), 16) % 10
                name = "train" if bucket < 8 else ("validation" if bucket == 8 else "test")
                entry = splits[name]
                entry["examples"] += 1
                entry["groups"].add(conv)
                channel = record["metadata"]["channel"]
                entry["channels"][channel] = entry["channels"].get(channel, 0) + 1
    if args.manifest:
        manifest = {"splits": {}, "options": {"group_by": "conversation_id", "stratify_by": "channel", "seed": args.seed}}
        for name, entry in splits.items():
            n = entry["examples"] or 1
            manifest["splits"][name] = {
                "examples": entry["examples"],
                "groups": len(entry["groups"]),
                "strata": {"channel": {k: round(v / n, 4) for k, v in sorted(entry["channels"].items())}},
            }
        Path(args.manifest).write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {args.examples:,} examples to {out}")


if __name__ == "__main__":
    main()
