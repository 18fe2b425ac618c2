"""Knowledge-base index: which assistant sentences restate a KB passage the example does not show.

A knowledge base is loaded once from

* a folder of Markdown / text / HTML documents (split at headings and blank lines),
* a JSONL file of documents (``text`` / ``content`` / ``body`` / ``answer`` plus optional
  ``id`` / ``title`` / ``source`` / ``url`` / ``question``), or
* a JSON file: a list of documents, or a nested object such as ABCD's ``guidelines.json``
  (every string leaf becomes a passage whose source is its path of keys, e.g.
  ``Product Defect > Return Due to Size > actions[0]``).

Passages are indexed with BM25 over content words and with their *specifics* (the
normalised values :mod:`toolkit.knowledge.extract` finds: "7 days", "90 days", "$50").
An assistant sentence matches a passage when it shares enough content words with it,
each shared specific adding weight, and the example's context does not already contain
what the sentence says.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import orjson

from toolkit.knowledge import normalize as N
from toolkit.knowledge.analyze import KnowledgeOptions, analyze, content_words, judged_turns
from toolkit.knowledge.extract import VALUE_KINDS, KnowledgeSpan, extract_spans, sentences

_TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst", ".html", ".htm"}
_TEXT_FIELDS = ("text", "content", "body", "answer", "passage", "document", "markdown")
_CONTAINER_KEYS = {"subflows", "actions", "items", "children", "sections", "data", "documents", "articles", "entries"}
_ID_FIELDS = ("id", "source", "url", "title", "path", "name", "question")


class KnowledgeBaseError(ValueError):
    """The knowledge base cannot be read (names the file and, for JSONL, the line)."""


@dataclass
class Passage:
    """One indexed piece of a knowledge-base document."""

    index: int
    source: str  # where it comes from: "docs/returns.md#Returns", "guidelines.json: Product Defect > ..."
    text: str
    words: Counter = field(default_factory=Counter)
    specifics: frozenset[tuple[str, str]] = frozenset()
    length: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "text": self.text}


@dataclass
class KbMatch:
    """An assistant sentence that restates a passage."""

    message_index: int
    pointer: str
    start: int
    end: int
    sentence: str
    source: str
    passage_text: str
    similarity: float
    shared_specifics: list[str]


class KnowledgeBase:
    """A BM25 + specifics index over passages (built once, read-only afterwards)."""

    def __init__(self, passages: list[tuple[str, str]], *, path: str = "") -> None:
        self.path = path
        self.passages: list[Passage] = []
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.values: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._folded_parts: list[str] = []
        for source, text in passages:
            text = text.strip()
            if not text:
                continue
            index = len(self.passages)
            words = Counter(content_words(text))
            specifics = frozenset((s.kind, s.value) for s in extract_spans(text) if s.kind in VALUE_KINDS and s.kind != "number")
            passage = Passage(index, source, text, words, specifics, sum(words.values()))
            self.passages.append(passage)
            for word, count in words.items():
                self.postings[word].append((index, count))
            for key in specifics:
                self.values[key].append(index)
            self._folded_parts.append(N.fold(text))
        self.folded = "\n".join(self._folded_parts)
        self.numbers = {N.canonical_number(v) for v in N.numbers_in(self.folded)}
        total = sum(sum(p.words.values()) for p in self.passages)
        self.avg_len = total / len(self.passages) if self.passages else 1.0
        count = len(self.passages)
        self.idf = {w: math.log(1 + (count - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.postings.items()}

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, words: list[str], limit: int = 5) -> list[tuple[float, Passage]]:
        """BM25 top passages for a bag of content words, best first (ties by position)."""
        scores: dict[int, float] = defaultdict(float)
        k1, b = 1.2, 0.75
        for word in set(words):
            postings = self.postings.get(word)
            if not postings:
                continue
            idf = self.idf[word]
            for index, tf in postings:
                length = self.passages[index].length
                scores[index] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / self.avg_len))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [(score, self.passages[index]) for index, score in ranked]

    def contains(self, span: KnowledgeSpan) -> bool:
        """Whether the KB states this specific (same normalised value, or the same text)."""
        if (span.kind, span.value) in self.values:
            return True
        if span.kind in ("money", "percent", "count", "rating") and span.value in self.numbers:
            return True
        if span.kind == "duration":
            numbers = [N.canonical_number(v) for v in N.numbers_in(span.text)]
            if numbers and all(n in self.numbers for n in numbers):
                return True
        return N.fold(span.text) in self.folded


# --------------------------------------------------------------------------- loading


def _html_to_text(raw: str) -> str:
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?i)<\s*(?:br|/p|/div|/li|/h[1-6]|/tr)\s*/?>", "\n", raw)
    raw = re.sub(r"(?i)<h([1-6])[^>]*>", lambda m: "\n" + "#" * int(m.group(1)) + " ", raw)
    raw = re.sub(r"<[^>]+>", " ", raw)
    return html.unescape(raw)


def _split_document(source: str, text: str) -> Iterator[tuple[str, str]]:
    """Split a Markdown / text document at headings and blank lines into passages (~ a paragraph)."""
    heading = ""
    buffer: list[str] = []

    def flush() -> Iterator[tuple[str, str]]:
        body = " ".join(" ".join(buffer).split())
        if body:
            yield (f"{source}#{heading}" if heading else source), body
        buffer.clear()

    for line in text.splitlines():
        stripped = line.strip()
        match = re.match(r"^#{1,6}\s+(.*)$", stripped)
        if match:
            yield from flush()
            heading = match.group(1).strip()
            continue
        if not stripped:
            yield from flush()
            continue
        buffer.append(stripped)
        if sum(len(b) for b in buffer) > 1200:
            yield from flush()
    yield from flush()


def _walk_json(value: Any, path: list[str]) -> Iterator[tuple[str, str]]:
    """String leaves of nested JSON as passages; sibling ``text`` + ``subtext`` are kept together."""
    if isinstance(value, str):
        if value.strip():
            yield " > ".join(path), value
        return
    if isinstance(value, Mapping):
        text = next((value[k] for k in _TEXT_FIELDS if isinstance(value.get(k), str)), None)
        if text is not None:
            extra = []
            for key in ("subtext", "details", "notes", "items", "steps"):
                sub = value.get(key)
                if isinstance(sub, list):
                    extra.extend(str(s) for s in sub if isinstance(s, str))
                elif isinstance(sub, str):
                    extra.append(sub)
            label = next((str(value[k]) for k in ("button", "title", "name", "question", "id") if isinstance(value.get(k), (str, int))), "")
            where = " > ".join(path + ([label] if label else []))
            yield where, " ".join([text, *extra])
            return
        for key, item in value.items():
            # container keys ("subflows", "actions") add nothing to a readable source path
            yield from _walk_json(item, path if str(key) in _CONTAINER_KEYS else path + [str(key)])
        return
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            yield " > ".join(path), " ".join(v for v in value if v.strip())
            return
        for position, item in enumerate(value):
            yield from _walk_json(item, path + [f"[{position}]"] if not isinstance(item, Mapping) else path)


def _document_passages(document: Mapping[str, Any], default_source: str) -> Iterator[tuple[str, str]]:
    text = next((document[k] for k in _TEXT_FIELDS if isinstance(document.get(k), str)), None)
    if text is None:
        yield from _walk_json(document, [default_source])
        return
    source = next((str(document[k]) for k in _ID_FIELDS if isinstance(document.get(k), (str, int)) and str(document[k]).strip()), default_source)
    question = document.get("question") if isinstance(document.get("question"), str) else ""
    body = f"{question} {text}".strip() if question and question not in text else text
    yield from _split_document(source, body)


def iter_kb_passages(path: str | os.PathLike[str]) -> Iterator[tuple[str, str]]:
    """``(source, text)`` passages of a KB folder, JSONL or JSON file. Raises :class:`KnowledgeBaseError`."""
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in _TEXT_SUFFIXES | {".jsonl", ".json"})
        if not files:
            raise KnowledgeBaseError(f"{root}: no .md, .txt, .html, .json or .jsonl documents in this folder")
        for file in files:
            yield from _file_passages(file, file.relative_to(root).as_posix())
        return
    if not root.is_file():
        raise KnowledgeBaseError(f"{root}: no such knowledge-base file or folder")
    yield from _file_passages(root, root.name)


def _file_passages(file: Path, name: str) -> Iterator[tuple[str, str]]:
    suffix = file.suffix.lower()
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise KnowledgeBaseError(f"{file}: cannot read: {exc.strerror}") from exc
    if suffix == ".gz":
        import gzip

        raw = gzip.decompress(raw)
        suffix = Path(file.stem).suffix.lower()
    if suffix == ".jsonl":
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise KnowledgeBaseError(f"{file}:{number}: invalid JSON in knowledge base: {exc.msg}") from None
            if not isinstance(value, Mapping):
                raise KnowledgeBaseError(f"{file}:{number}: each knowledge-base line must be a JSON object (a document)")
            if not any(isinstance(value.get(k), str) for k in _TEXT_FIELDS):
                raise KnowledgeBaseError(
                    f"{file}:{number}: document has no text field (one of {', '.join(_TEXT_FIELDS)})")
            yield from _document_passages(value, f"{name}:{number}")
        return
    if suffix == ".json":
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise KnowledgeBaseError(f"{file}: invalid JSON in knowledge base: {exc.msg}") from None
        if isinstance(value, list):
            for position, item in enumerate(value, 1):
                if isinstance(item, Mapping):
                    yield from _document_passages(item, f"{name}[{position}]")
                elif isinstance(item, str):
                    yield from _split_document(f"{name}[{position}]", item)
            return
        yield from ((f"{name}: {where.split(' > ', 1)[1]}" if " > " in where else f"{name}: {where}", text)
                    for where, text in _walk_json(value, [name]))
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{file}: not UTF-8 text (byte {exc.start + 1})") from None
    if suffix in (".html", ".htm"):
        text = _html_to_text(text)
    yield from _split_document(name, text)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float, size: int) -> KnowledgeBase:
    return KnowledgeBase(list(iter_kb_passages(path)), path=path)


def load_kb(path: str | os.PathLike[str]) -> KnowledgeBase:
    """Load and index a knowledge base once per process (cached by path, mtime and size)."""
    target = Path(path)
    try:
        stat = target.stat()
    except OSError:
        raise KnowledgeBaseError(f"{target}: no such knowledge-base file or folder") from None
    mtime = stat.st_mtime
    if target.is_dir():
        mtime = max([mtime] + [p.stat().st_mtime for p in target.rglob("*") if p.is_file()])
    kb = _load_cached(str(target), mtime, stat.st_size)
    if not len(kb):
        raise KnowledgeBaseError(f"{target}: the knowledge base has no text")
    return kb


# --------------------------------------------------------------------------- matching


def _context_words(messages: list[Mapping[str, Any]], texts: list[str], upto: int) -> set[str]:
    words: set[str] = set()
    for message, text in zip(messages[:upto], texts[:upto]):
        if message.get("role") in ("system", "developer", "tool", "function"):
            words.update(content_words(text))
    return words


_REQUEST_OR_ACTION = re.compile(
    r"^\W*(?:\w+,\s*)?(?:(?:ok(?:ay)?|sure|thanks|great|alright|perfect)[,!.]?\s+)*(?:would you|could you|can you|may i|can i|please|"
    r"what is your|what's your|i will|i'll|i am going to|i'm going to|let me|i need|i'd need|i just need|i'd just need|"
    r"(?:everything|all)(?: is)? in order)\b|.*\b(?:i will|i'll|let me)\b",
    re.IGNORECASE,
)


def kb_matches(record: Mapping[str, Any], kb: KnowledgeBase, *, min_similarity: float = 0.35,
               every_turn: bool = False, trainable_turns: bool = False, min_shared: int = 3) -> list[KbMatch]:
    """Assistant sentences of ``record`` that restate a KB passage not present in the context."""
    from toolkit.model import content_text

    messages = [m for m in record.get("messages") or [] if isinstance(m, Mapping)]
    texts = [content_text(m.get("content")) for m in messages]
    targets = [i for i, m in enumerate(messages) if m.get("role") == "assistant" and texts[i].strip()]
    targets = judged_turns(messages, targets, every_turn=every_turn, trainable_turns=trainable_turns)
    matches: list[KbMatch] = []
    user_words: set[str] = set()
    for index in targets:
        context = _context_words(messages, texts, index)
        user_words = set()
        for message, text in zip(messages[:index], texts[:index]):
            if message.get("role") == "user":
                user_words.update(content_words(text))
        text = texts[index]
        spans = [s for s in extract_spans(text) if s.kind in VALUE_KINDS and s.kind != "number"]
        pointer = f"/messages/{index}/content"
        content = messages[index].get("content")
        if isinstance(content, list):
            for part_index, part in enumerate(content):
                if isinstance(part, Mapping) and part.get("type") == "text":
                    pointer = f"/messages/{index}/content/{part_index}/text"
                    break
        for start, end in sentences(text):
            sentence = text[start:end]
            words = [w for w in content_words(sentence)]
            if len(set(words)) < 2:
                continue
            mine = {(s.kind, s.value) for s in spans if start <= s.start < end}
            if not mine and (sentence.rstrip().endswith("?") or _REQUEST_OR_ACTION.match(sentence)):
                continue  # asking for details or announcing one's own next step states no fact
            best: tuple[tuple[bool, float], Passage, list[str]] | None = None
            candidates = [p for _, p in kb.search(words)]
            # passages that state the same specific value are candidates even if BM25 ranks them low
            listed = {p.index for p in candidates}
            for key in sorted(mine):
                for passage_index in kb.values.get(key, ())[:20]:
                    if passage_index not in listed:
                        listed.add(passage_index)
                        candidates.append(kb.passages[passage_index])
            for passage in candidates:
                shared_words = {w for w in words if w in passage.words}
                novel_shared = {w for w in shared_words if w not in user_words}
                shared_specifics = sorted(v for _, v in mine & passage.specifics)
                coverage = len(shared_words) / len(set(words))
                if len(shared_words) < min_shared and not (len(shared_words) >= 2 and shared_specifics):
                    continue
                if not novel_shared and not shared_specifics:
                    continue  # only the user's own words overlap
                similarity = min(1.0, coverage + 0.25 * len(shared_specifics))
                if similarity < min_similarity:
                    continue
                # Grounded: the context (system prompt, tool results) already holds what the sentence shares.
                if context and sum(1 for w in shared_words if w in context) >= 0.8 * len(shared_words):
                    continue
                rank = (bool(shared_specifics), similarity)  # the passage holding the same value is the source
                if best is None or rank > best[0]:
                    best = (rank, passage, shared_specifics)
            if best is not None:
                (_, similarity), passage, shared = best
                matches.append(KbMatch(index, pointer, start, end, sentence, passage.source, passage.text,
                                       similarity, shared))
    return matches


def kb_grounding_passages(record: Mapping[str, Any], kb: KnowledgeBase, *, every_turn: bool = False,
                          trainable_turns: bool = False, limit: int = 3) -> list[Passage]:
    """The passages to insert into an example's context to ground it (RAFT): KB matches first, then search."""
    found: list[Passage] = []
    seen: set[int] = set()
    texts: set[str] = set()  # guidelines repeat passages word for word under several headings: insert one
    for match in kb_matches(record, kb, every_turn=every_turn, trainable_turns=trainable_turns):
        for passage in kb.passages:
            if passage.source == match.source and passage.text == match.passage_text and passage.index not in seen:
                seen.add(passage.index)
                if passage.text not in texts:
                    texts.add(passage.text)
                    found.append(passage)
                break
    if len(found) < limit:
        result = analyze(record, KnowledgeOptions(every_turn=every_turn, trainable_turns=trainable_turns))
        for turn in result.turns:
            words = content_words(turn.text)
            for _, passage in kb.search(words, limit=limit):
                specifics = {(s.kind, s.value) for s in turn.spans}
                if passage.index not in seen and passage.text not in texts and (specifics & passage.specifics):
                    seen.add(passage.index)
                    texts.add(passage.text)
                    found.append(passage)
    return found[:limit]
