"""Build the corpus part of the knowledge-injection evaluation set from ../shared/corpora at run time.

Writes ``benchmarks/_data/knowledge_eval/`` (git-ignored):

* ``examples.jsonl`` - one chat example per judged assistant turn (the turn is the final
  message; the conversation before it is the context). Only ``metadata.id`` identifies it:
  the rules never see a label.
* ``labels.jsonl`` - ``{"id", "label": "knowledge"|"behavior", "source", "split", "why"}``.

Sources and how each turn is labeled (labels come from the corpora's own annotations, not
from ftkit):

* SGD (``sgd/dev_dialogues_*.json``): every SYSTEM turn. Knowledge when one of its
  ``INFORM`` / ``OFFER`` / ``INFORM_COUNT`` acts carries a value the user never said
  (it came from ``service_results``, a database lookup). For every second dialogue the
  lookup is put into the context as a tool call + tool result (``--with-results``
  variant): those turns are grounded and labeled behavior. dev_dialogues_001 is the
  development split, dev_dialogues_002 the holdout (other services: buses, rental cars).
* Taskmaster-4 (``taskmaster/TM-4-2024_data_07.json``): every assistant turn. Knowledge
  when it names a value from an ``api_response`` that the user never said and the
  response is not in the context; with the api calls and responses in the context
  (every second dialogue) the same kind of turn is behavior.
* ABCD (``abcd/abcd_sample.json``): every agent turn, hand-labeled against
  ``guidelines.json`` (restating a policy such as the 90-day return window or the 7-day
  promo-code validity is knowledge; greetings, requests for details, confirmations are
  behavior). Action turns become tool results.
* ``own_examples.jsonl`` + ``own_labels.jsonl`` (in this folder): hand-written support
  examples across industries with many hard negatives; copied into the output as is.

Usage: ``python3 benchmarks/knowledge_eval/build.py [--corpora PATH] [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"
DEFAULT_OUT = ROOT / "benchmarks" / "_data" / "knowledge_eval"

VALUE_ACTS = {"INFORM", "OFFER", "INFORM_COUNT"}

# ABCD agent turns (conversation id, index in "original") that restate guidelines.json or
# state an account fact with no record in view. Every other agent turn is behavior.
ABCD_KNOWLEDGE = {
    (3592, 15): "asks for the 90-day return window of bronze members (guideline)",
    (3592, 17): "states the 90-day return policy (guideline)",
    # refund-status conversation
    ("refund", 15): "states the refund status and payment method with no record in view",
    ("refund", 17): "states refund timing ('less than a week')",
    # promo-code conversation
    ("promo", 16): "states that promo codes expire after 7 days (guideline)",
}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.casefold())).strip()


def _contains(haystack: str, needle: str) -> bool:
    needle = _norm(needle)
    return bool(needle) and f" {needle} " in f" {_norm(haystack)} "


def sgd_examples(path: Path, split: str, tag: str):
    dialogues = json.loads(path.read_text())
    for number, dialogue in enumerate(dialogues):
        with_results = number % 2 == 1
        messages: list[dict] = []
        user_text = ""
        for turn_index, turn in enumerate(dialogue["turns"]):
            if turn["speaker"] == "USER":
                messages.append({"role": "user", "content": turn["utterance"]})
                user_text += " " + turn["utterance"]
                continue
            acts = [a for f in turn["frames"] for a in f["actions"]]
            novel = [v for a in acts if a["act"] in VALUE_ACTS for v in (a.get("values") or [a.get("slot", "")])
                     if a["act"] == "INFORM_COUNT" or not _contains(user_text, v)]
            results = [f for f in turn["frames"] if f.get("service_results")]
            context = list(messages)
            grounded = False
            if with_results and results:
                frame = results[0]
                call_id = f"call_{turn_index}"
                call = frame.get("service_call") or {"method": frame["service"], "parameters": {}}
                context.append({"role": "assistant", "content": None, "tool_calls": [{
                    "id": call_id, "type": "function",
                    "function": {"name": call["method"], "arguments": json.dumps(call["parameters"], sort_keys=True)}}]})
                context.append({"role": "tool", "tool_call_id": call_id,
                                "content": json.dumps(frame["service_results"], sort_keys=True)})
                grounded = True
            label = "knowledge" if novel and not grounded else "behavior"
            ex_id = f"sgd-{tag}-{dialogue['dialogue_id']}-{turn_index}"
            record = {"messages": context + [{"role": "assistant", "content": turn["utterance"]}], "metadata": {"id": ex_id}}
            why = ("states " + ", ".join(repr(v) for v in novel[:4]) + (" (lookup in context)" if grounded else "")) if novel else \
                "no value from a lookup (" + ",".join(sorted({a["act"] for a in acts})) + ")"
            yield record, {"id": ex_id, "label": label, "source": f"sgd-{tag}", "split": split, "why": why}
            messages.append({"role": "assistant", "content": turn["utterance"]})


def _tm_values(response: str) -> list[str]:
    try:
        data = json.loads(response)
    except json.JSONDecodeError:
        return []
    out: list[str] = []

    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in ("name", "menu_item_name", "option", "options") and len(value) > 2:
            out.append(value)

    walk(data)
    return out


_TM_GENERIC = {"here", "to go", "no milk", "whole milk", "regular"}
_TM_MENU = ("black", "herbal", "oolong", "green tea", "chai", "latte", "mocha", "americano", "espresso", "cappuccino",
            "cortado", "macchiato", "matcha", "oat", "almond", "non-fat", "lactose free", "splenda", "equal", "stevia",
            "caramel", "vanilla", "hazelnut")


def taskmaster_examples(path: Path):
    dialogues = json.loads(path.read_text())
    for number, dialogue in enumerate(dialogues):
        with_results = number % 2 == 1
        split = "dev" if number % 4 < 2 else "holdout"
        messages: list[dict] = []
        user_text = ""
        values: list[str] = []
        responses = ""
        for utt in dialogue["utterances"]:
            if utt["speaker"] == "user":
                messages.append({"role": "user", "content": utt["text"]})
                user_text += " " + utt["text"]
                calls: dict[str, dict] = {}
                for ann in utt.get("annotations") or []:
                    ctx = ann.get("context", "")
                    calls.setdefault(ctx.split("_")[-1], {})[ann["name"]] = ann["value"]
                for key in sorted(calls, key=lambda k: int(k) if k.isdigit() else 0):
                    c = calls[key]
                    if "response" not in c:
                        continue
                    values.extend(_tm_values(c["response"]))
                    responses += " " + c["response"]
                    if with_results:
                        call_id = f"call_{key}"
                        messages.append({"role": "assistant", "content": None, "tool_calls": [{
                            "id": call_id, "type": "function",
                            "function": {"name": c.get("api_call", "api"), "arguments": c.get("request", "{}")}}]})
                        messages.append({"role": "tool", "tool_call_id": call_id, "content": c["response"]})
                continue
            text = utt["text"]
            stated = sorted({v for v in values if len(v) > 4 and v.casefold() not in _TM_GENERIC
                             and _contains(text, v) and not _contains(user_text, v)})
            # Listing the menu (drinks, teas, milks) the user did not name is catalogue knowledge too,
            # whether or not an api response held it (the "show menu" call returns only success).
            menu = sorted({w for w in _TM_MENU if _contains(text, w) and not _contains(user_text, w)})
            if len(menu) >= 2:
                stated = sorted(set(stated) | set(menu))
            # with the api responses in the context, only values they do not hold are still taught
            ungrounded = [v for v in stated if not (with_results and _contains(responses, v))]
            label = "knowledge" if ungrounded else "behavior"
            ex_id = f"tm-{dialogue['conversation_id']}-{utt['index']}"
            record = {"messages": messages + [{"role": "assistant", "content": text}], "metadata": {"id": ex_id}}
            why = ("names " + ", ".join(repr(v) for v in stated[:4]) + (" (api response in context)" if with_results else "")) \
                if stated else "no api-response value the user did not say"
            yield record, {"id": ex_id, "label": label, "source": "taskmaster", "split": split, "why": why}
            messages.append({"role": "assistant", "content": text})


def abcd_examples(path: Path):
    conversations = json.loads(path.read_text())
    for conversation in conversations:
        texts = " ".join(t for s, t in conversation["original"])
        alias = conversation["convo_id"]
        if "status of a refund" in texts:
            alias = "refund"
        elif "promo code" in texts:
            alias = "promo"
        messages: list[dict] = []
        for index, (speaker, text) in enumerate(conversation["original"]):
            if speaker == "customer":
                messages.append({"role": "user", "content": text})
            elif speaker == "action":
                messages.append({"role": "tool", "content": text})
            else:
                why = ABCD_KNOWLEDGE.get((alias, index))
                label = "knowledge" if why else "behavior"
                ex_id = f"abcd-{conversation['convo_id']}-{index}"
                record = {"messages": messages + [{"role": "assistant", "content": text}], "metadata": {"id": ex_id}}
                yield record, {"id": ex_id, "label": label, "source": "abcd", "split": "holdout" if index % 2 else "dev",
                               "why": why or "agent behavior (greeting, request for details, confirmation)"}
                messages.append({"role": "assistant", "content": text})


def own_examples():
    examples = HERE / "own_examples.jsonl"
    labels = HERE / "own_labels.jsonl"
    if not examples.is_file():
        return
    by_id = {}
    for line in labels.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            by_id[item["id"]] = item
    for number, line in enumerate(examples.read_text().splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        ex_id = record["metadata"]["id"]
        if ex_id not in by_id:
            sys.exit(f"{examples}:{number}: example {ex_id} has no label in {labels}")
        yield record, by_id[ex_id]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    corpora: Path = args.corpora
    if not corpora.is_dir():
        print(f"corpora not found at {corpora}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    parts = [
        sgd_examples(corpora / "sgd" / "dev_dialogues_001.json", "dev", "001"),
        sgd_examples(corpora / "sgd" / "dev_dialogues_002.json", "holdout", "002"),
        taskmaster_examples(corpora / "taskmaster" / "TM-4-2024_data_07.json"),
        abcd_examples(corpora / "abcd" / "abcd_sample.json"),
        own_examples(),
    ]
    counts: dict[tuple[str, str, str], int] = {}
    with open(args.out / "examples.jsonl", "w") as ex_out, open(args.out / "labels.jsonl", "w") as lab_out:
        for part in parts:
            for record, label in part:
                ex_out.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
                lab_out.write(json.dumps(label, ensure_ascii=False) + "\n")
                key = (label["source"].split("-")[0], label["split"], label["label"])
                counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    print(f"wrote {total} labeled assistant turns to {args.out}")
    for key in sorted(counts):
        print(f"  {key[0]:<11} {key[1]:<8} {key[2]:<10} {counts[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
