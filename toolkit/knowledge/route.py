"""Routing: split a dataset into behavior to fine-tune on and knowledge for a RAG index.

:class:`Router` consumes records one at a time (streaming) and decides, per example:

* ``behavior`` - no judged assistant turn reaches the knowledge threshold and no sentence
  restates a knowledge-base passage: the example goes to ``behavior.jsonl`` unchanged.
* ``knowledge`` - it teaches facts: the example goes to ``knowledge.jsonl`` with its spans,
  scores and KB sources in ``metadata.knowledge``, and its facts become question / answer
  documents in ``kb_candidates.jsonl``.

Treatments keep flagged examples in the fine-tuning set instead of dropping them:

* ``mask`` - flagged assistant turns get ``weight: 0`` (still context, no longer trained on);
* ``ground`` - the matching KB passages are appended to the system prompt (the RAFT
  recipe), so the example teaches the model to *use* provided facts; examples the KB cannot
  ground stay out;
* ``template`` - the values are replaced with named placeholders (``{{refund_window}}``)
  the application fills at run time; turns that also state policies or procedures, which a
  placeholder cannot replace, are masked.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from toolkit.knowledge import normalize as N
from toolkit.knowledge.analyze import KnowledgeOptions, KnowledgeResult, TurnResult, analyze, content_words
from toolkit.knowledge.extract import VALUE_KINDS, KnowledgeSpan
from toolkit.model import content_text

Mode = Literal["route", "mask", "ground", "template"]

_TEMPLATE_BASE = {
    "money": "price", "percent": "percent", "duration": "window", "date": "date", "time": "time", "count": "limit",
    "rating": "rating", "number": "number", "url": "url", "email": "email", "phone": "phone", "code": "code",
    "promo_code": "promo_code", "version": "version", "address": "address", "name": "name", "plan": "plan_name",
}
_TOPICS = (
    "refund", "return", "exchange", "shipping", "delivery", "trial", "fee", "warranty", "subscription", "plan", "seat",
    "user", "checkin", "checkout", "check-in", "check-out", "bag", "baggage", "upgrade", "cancellation", "support",
    "billing", "interest", "overdraft", "wire", "deposit", "claim", "copay", "rent", "membership", "discount",
    "promo", "sale", "pickup", "processing", "transfer", "withdrawal", "installation", "appointment", "api", "storage",
    "upload", "download", "limit", "data", "roaming", "parking", "pool", "breakfast", "clinic", "branch", "store",
)
_TOPIC_RE = re.compile(r"\b(" + "|".join(re.escape(t) for t in _TOPICS) + r")s?\b", re.IGNORECASE)


@dataclass
class RouteOptions:
    """How :class:`Router` decides and treats examples."""

    mode: Mode = "route"
    knowledge: KnowledgeOptions = field(default_factory=KnowledgeOptions)
    kb: Any = None  # a toolkit.knowledge.kb.KnowledgeBase, or None
    kb_min_similarity: float = 0.35


@dataclass
class RouteDecision:
    """What happened to one example."""

    label: str  # "knowledge" or "behavior"
    result: KnowledgeResult
    kb_sources: list[dict[str, Any]]
    behavior_record: dict[str, Any] | None  # what goes to behavior.jsonl (None: nothing)
    knowledge_record: dict[str, Any] | None  # what goes to knowledge.jsonl (None: nothing)
    treatment: str | None = None  # "masked", "grounded", "templated", or None


@dataclass
class RouteSummary:
    """Counts and the most recurring facts, for the summary file and the console."""

    examples: int = 0
    behavior: int = 0
    knowledge: int = 0
    treated: Counter = field(default_factory=Counter)
    ungroundable: int = 0
    by_rule: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    facts: Counter = field(default_factory=Counter)
    fact_text: dict[tuple[str, str], str] = field(default_factory=dict)
    kb_sources: Counter = field(default_factory=Counter)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, top: int = 20, threshold: float, mode: str, kb: str | None) -> dict[str, Any]:
        share = self.knowledge / self.examples if self.examples else 0.0
        facts = sorted(self.facts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return {
            "examples": self.examples,
            "behavior": self.behavior,
            "knowledge": self.knowledge,
            "knowledge_share": round(share, 4),
            "mode": mode,
            "threshold": threshold,
            "kb": kb,
            "treated": dict(sorted(self.treated.items())),
            "not_groundable": self.ungroundable,
            "by_rule": dict(sorted(self.by_rule.items())),
            "by_kind": dict(sorted(self.by_kind.items())),
            "top_facts": [{"kind": k, "value": v, "text": self.fact_text.get((k, v), v), "examples": n} for (k, v), n in facts],
            "top_kb_sources": [{"source": s, "examples": n}
                               for s, n in sorted(self.kb_sources.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
            "skipped": self.skipped,
        }


class Router:
    """Route examples one at a time; collect KB candidates and the summary as it goes."""

    def __init__(self, options: RouteOptions | None = None) -> None:
        self.options = options or RouteOptions()
        self.summary = RouteSummary()
        self._candidates: dict[str, dict[str, Any]] = {}

    # -- decisions ---------------------------------------------------------------------

    def route(self, record: Mapping[str, Any], *, file: str = "<input>", line: int = 0) -> RouteDecision:
        opts = self.options
        kopts = opts.knowledge
        result = analyze(record, kopts)
        kb_sources = self._kb_sources(record, kopts)
        flagged_turns = [t for t in result.turns if t.score >= kopts.threshold and t.spans]
        kb_turns = {s["message_index"] for s in kb_sources}
        is_knowledge = bool(flagged_turns) or bool(kb_sources)
        self.summary.examples += 1
        if not is_knowledge:
            self.summary.behavior += 1
            return RouteDecision("behavior", result, [], dict(record), None)
        self.summary.knowledge += 1
        spans = [s for t in flagged_turns for s in t.spans]
        for span in spans:
            self.summary.by_rule[span.rule] += 1
            self.summary.by_kind[span.kind] += 1
        for key in sorted({(s.kind, s.value) for s in spans if s.kind in VALUE_KINDS and s.kind != "number"}):
            self.summary.facts[key] += 1
            self.summary.fact_text.setdefault(key, next(s.text for s in spans if (s.kind, s.value) == key))
        for source in sorted({s["source"] for s in kb_sources}):
            self.summary.kb_sources[source] += 1
        knowledge_record = self._annotate(record, result, flagged_turns, kb_sources, file, line)
        self._add_candidates(record, flagged_turns, kb_turns, kb_sources, file, line)
        behavior_record, treatment = None, None
        if opts.mode == "mask":
            behavior_record, treatment = self._mask(record, {t.message_index for t in flagged_turns} | kb_turns), "masked"
        elif opts.mode == "template":
            behavior_record, treatment = self._template(record, flagged_turns, kb_turns), "templated"
        elif opts.mode == "ground":
            behavior_record = self._ground(record, kb_sources)
            treatment = "grounded" if behavior_record is not None else None
            if behavior_record is None:
                self.summary.ungroundable += 1
        if treatment:
            self.summary.treated[treatment] += 1
        return RouteDecision("knowledge", result, kb_sources, behavior_record, knowledge_record, treatment)

    def _kb_sources(self, record: Mapping[str, Any], kopts: KnowledgeOptions) -> list[dict[str, Any]]:
        if self.options.kb is None:
            return []
        from toolkit.knowledge.kb import kb_matches

        out = []
        for match in kb_matches(record, self.options.kb, min_similarity=self.options.kb_min_similarity,
                                every_turn=kopts.every_turn, trainable_turns=kopts.trainable_turns):
            out.append({
                "message_index": match.message_index, "pointer": match.pointer, "start": match.start, "end": match.end,
                "sentence": match.sentence, "source": match.source, "passage": match.passage_text,
                "similarity": round(match.similarity, 4), "shared_specifics": match.shared_specifics,
            })
        return out

    # -- outputs -----------------------------------------------------------------------

    def _annotate(self, record: Mapping[str, Any], result: KnowledgeResult, turns: list[TurnResult],
                  kb_sources: list[dict[str, Any]], file: str, line: int) -> dict[str, Any]:
        out = dict(record)
        meta = dict(out.get("metadata") or {}) if isinstance(out.get("metadata"), Mapping) else {}
        meta["knowledge"] = {
            "score": round(result.score, 4),
            "threshold": self.options.knowledge.threshold,
            "turns": [{"message_index": t.message_index, "pointer": t.pointer, "score": round(t.score, 4),
                       "spans": [s.to_dict() for s in t.spans]} for t in turns],
            "kb_sources": kb_sources,
            "source": {"file": file, "line": line},
        }
        out["metadata"] = meta
        return out

    def _add_candidates(self, record: Mapping[str, Any], turns: list[TurnResult], kb_turns: set[int],
                        kb_sources: list[dict[str, Any]], file: str, line: int) -> None:
        messages = [m for m in record.get("messages") or [] if isinstance(m, Mapping)]
        meta = record.get("metadata") if isinstance(record.get("metadata"), Mapping) else {}
        source_id = str(meta.get("conversation_id") or meta.get("id") or f"{file}:{line}")
        by_index = {t.message_index: t for t in turns}
        for index in sorted(set(by_index) | kb_turns):
            if index >= len(messages):
                continue
            answer = content_text(messages[index].get("content")).strip()
            question = _question_for(messages, index)
            turn = by_index.get(index)
            facts = [] if turn is None else [
                {"kind": s.kind, "text": s.text, "value": s.value, "rule": s.rule} for s in turn.spans]
            sources = sorted({s["source"] for s in kb_sources if s["message_index"] == index})
            key = hashlib.sha256(f"{N.normalize_phrase(question)}\x00{N.normalize_phrase(answer)}".encode()).hexdigest()[:16]
            entry = self._candidates.get(key)
            if entry is None:
                self._candidates[key] = {
                    "id": f"kb-{key}",
                    "question": question,
                    "answer": answer,
                    "text": f"Q: {question}\nA: {answer}" if question else answer,
                    "facts": facts,
                    "kb_sources": sources,
                    "source_ids": [source_id],
                    "sources": [{"file": file, "line": line, "pointer": f"/messages/{index}/content"}],
                }
            else:
                if source_id not in entry["source_ids"]:
                    entry["source_ids"].append(source_id)
                entry["sources"].append({"file": file, "line": line, "pointer": f"/messages/{index}/content"})
                entry["kb_sources"] = sorted(set(entry["kb_sources"]) | set(sources))

    def candidates(self) -> list[dict[str, Any]]:
        """KB candidate documents in order of first appearance (deterministic)."""
        return list(self._candidates.values())

    # -- treatments --------------------------------------------------------------------

    @staticmethod
    def _mask(record: Mapping[str, Any], indexes: set[int]) -> dict[str, Any]:
        out = copy.deepcopy(dict(record))
        messages = out.get("messages") or []
        position = 0
        for message in messages:
            if isinstance(message, dict):
                if position in indexes and message.get("role") == "assistant":
                    message["weight"] = 0
            position += 1
        return out

    def _template(self, record: Mapping[str, Any], turns: list[TurnResult], kb_turns: set[int]) -> dict[str, Any]:
        out = copy.deepcopy(dict(record))
        messages = out.get("messages") or []
        values: dict[str, str] = {}
        masked: set[int] = set(kb_turns)
        for turn in turns:
            message = messages[turn.message_index]
            text = content_text(message.get("content"))
            replaceable = sorted((s for s in turn.spans if s.kind in _TEMPLATE_BASE), key=lambda s: s.start)
            if any(s.kind not in _TEMPLATE_BASE for s in turn.spans):
                masked.add(turn.message_index)  # policies / procedures: no placeholder can stand in
            pieces: list[str] = []
            cursor = 0
            for span in replaceable:
                if span.start < cursor:
                    continue
                name = _placeholder_name(text, span, values)
                values[name] = span.text
                pieces.append(text[cursor:span.start])
                pieces.append("{{" + name + "}}")
                cursor = span.end
            pieces.append(text[cursor:])
            new_text = "".join(pieces)
            content = message.get("content")
            if isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and part.get("type") == "text":
                        part["text"] = new_text
                        for extra in content[content.index(part) + 1:]:
                            if isinstance(extra, dict) and extra.get("type") == "text":
                                extra["text"] = ""
                        break
            else:
                message["content"] = new_text
        for index in masked:
            if index < len(messages) and isinstance(messages[index], dict) and messages[index].get("role") == "assistant":
                messages[index]["weight"] = 0
        meta = dict(out.get("metadata") or {}) if isinstance(out.get("metadata"), Mapping) else {}
        meta["template_values"] = values
        out["metadata"] = meta
        return out

    def _ground(self, record: Mapping[str, Any], kb_sources: list[dict[str, Any]]) -> dict[str, Any] | None:
        if self.options.kb is None:
            return None
        from toolkit.knowledge.kb import kb_grounding_passages

        passages = kb_grounding_passages(record, self.options.kb, every_turn=self.options.knowledge.every_turn,
                                         trainable_turns=self.options.knowledge.trainable_turns)
        if not passages:
            return None
        out = copy.deepcopy(dict(record))
        messages = out.get("messages") or []
        reference = "Reference passages from the knowledge base:\n" + "\n".join(
            f"[{i}] ({p.source}) {p.text}" for i, p in enumerate(passages, 1))
        system = next((m for m in messages if isinstance(m, dict) and m.get("role") in ("system", "developer")), None)
        if system is not None and isinstance(system.get("content"), str):
            system["content"] = system["content"].rstrip() + "\n\n" + reference
        else:
            messages.insert(0, {"role": "system", "content": reference})
        out["messages"] = messages
        # Still knowledge after grounding? Then the KB does not hold what the example says.
        check = analyze(out, self.options.knowledge)
        if check.label == "knowledge":
            return None
        meta = dict(out.get("metadata") or {}) if isinstance(out.get("metadata"), Mapping) else {}
        meta["grounded_from"] = [p.source for p in passages]
        out["metadata"] = meta
        return out


def _question_for(messages: list[Mapping[str, Any]], index: int) -> str:
    """The user question an answer responds to: the latest user turn with a question mark among the
    last three user turns before it, else the latest user turn."""
    users = [content_text(messages[j].get("content")).strip() for j in range(index - 1, -1, -1)
             if messages[j].get("role") == "user"]
    for text in users[:3]:
        if "?" in text:
            return text
    return users[0] if users else ""


def _placeholder_name(text: str, span: KnowledgeSpan, taken: Mapping[str, str]) -> str:
    """A readable placeholder: topic word before the value + its kind ("refund_window", "shipping_price")."""
    base = _TEMPLATE_BASE.get(span.kind, "value")
    sentence = text[span.sentence[0]:span.start] if span.sentence[1] > span.sentence[0] else text[:span.start]
    topics = _TOPIC_RE.findall(sentence) or _TOPIC_RE.findall(text[span.start:span.sentence[1]])
    topic = topics[-1].lower().replace("-", "") if topics else ""
    name = f"{topic}_{base}" if topic and topic != base else base
    name = re.sub(r"[^a-z0-9_]", "_", name)
    candidate, number = name, 2
    while candidate in taken and taken[candidate] != span.text:
        candidate = f"{name}_{number}"
        number += 1
    return candidate


__all__ = ["RouteDecision", "RouteOptions", "RouteSummary", "Router", "content_words"]
