"""D: duplicates inside one dataset - exact, near (MinHash), and one prompt taught two answers.

(Codes D010 and up are the cross-split leakage rules, in their own module.)

All three are dataset rules: they see every example in order and report on the later
example of a pair, naming the earlier one by line. Texts are compared after
:func:`toolkit.dedup.normalize_text` (NFKC, case-folded, punctuation and spacing collapsed),
so "Hello!" and "hello" are the same text. Memory: a 16-byte key and a location per
distinct example, plus one MinHash signature per example for D002.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Mapping

from toolkit.dedup import (
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    get_hasher,
    normalize_text,
    normalize_words,
    word_hash_bytes,
)
from toolkit.diagnostics import Severity
from toolkit.linter.rule import DatasetRule, ExampleContext, Finding, Fix, RuleOption, register
from toolkit.linter.rules._textfix import message_word_hashes, message_words as _message_words, preview, trainable_assistant


def _line(user: str, assistant: str, system: str | None = None) -> str:
    parts = []
    if system is not None:
        parts.append('{"role": "system", "content": "' + system + '"}')
    parts.append('{"role": "user", "content": "' + user + '"}')
    parts.append('{"role": "assistant", "content": "' + assistant + '"}')
    return '{"messages": [' + ", ".join(parts) + "]}"


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


_ROLES_OPTION = RuleOption(
    "roles", "list[str]", ["user", "assistant"], "Message roles whose text makes up an example for comparison."
)


def _comparable_text(ctx: ExampleContext, roles: tuple[str, ...]) -> str:
    """Role-tagged text of the example (cached on the context for D001 and D002)."""
    cache = ctx.__dict__.setdefault("_ftkit_dup_text", {})
    text = cache.get(roles)
    if text is None:
        wanted = set(roles)
        text = "\n".join(
            f"<{message.get('role')}> {body}"
            for message, body in zip(ctx.messages, ctx.texts)
            if message.get("role") in wanted
        )
        cache[roles] = text
    return text


# role -> (normalised text of the tag ``<role>``, its number of words, their word hashes)
_TAGS: dict[Any, tuple[str, int, bytes]] = {}


def _tag(role: Any) -> tuple[str, int, bytes] | None:
    """The normalised text, word count and word hashes of a role tag ``<role>``, ``None`` when the tag is not ASCII."""
    try:
        value = _TAGS.get(role)
    except TypeError:  # an unhashable role value
        value = None
    if value is None:
        tag = f"<{role}>"
        if not tag.isascii():
            return None
        words = normalize_words(tag)
        value = (" ".join(words), len(words), word_hash_bytes(words))
        if len(_TAGS) < 1024:
            try:
                _TAGS[role] = value
            except TypeError:
                pass
    return value


def _message_text(ctx: ExampleContext, index: int) -> str:
    """``" ".join(message_words(ctx)[index])`` (which must not be ``None``), cached: D001 and D003
    compose their texts from these, so each word is copied once, not once per composition."""
    state = ctx.__dict__
    texts = state.get("_ftkit_dup_message_texts")
    if texts is None:
        texts = state["_ftkit_dup_message_texts"] = [None] * len(ctx.texts)
    value = texts[index]
    if value is None:
        value = texts[index] = " ".join(_message_words(ctx)[index])  # type: ignore[index]
    return value


def _composed_text(ctx: ExampleContext, upto: int, wanted: set[str]) -> tuple[str, int] | None:
    """``normalize_text("\\n".join(f"<{role}> {text}" ...))`` over ``messages[:upto]`` whose role is
    wanted, and its number of words, from the per-message words; ``None`` when some text or tag
    is not ASCII."""
    per_message = _message_words(ctx)
    if per_message is None:
        return None
    parts: list[str] = []
    count = 0
    for index, (message, words) in enumerate(zip(ctx.messages[:upto], per_message)):
        role = message.get("role")
        if role in wanted:
            tag = _tag(role)
            if tag is None:
                return None
            parts.append(tag[0])
            count += tag[1]
            if words:  # an empty message adds no word, hence no separator
                parts.append(_message_text(ctx, index))
                count += len(words)
    return " ".join(parts), count


def _composed_word_hashes(ctx: ExampleContext, roles: tuple[str, ...]) -> bytes | None:
    """``word_hash_bytes`` of the words of ``_normalized``'s text, from each message's cached hashes
    (shared with Q003); ``None`` when that text was not composed from the per-message words."""
    if _message_words(ctx) is None:
        return None
    wanted = set(roles)
    parts: list[bytes] = []
    for index, message in enumerate(ctx.messages):
        role = message.get("role")
        if role in wanted:
            tag = _tag(role)
            if tag is None:
                return None
            parts.append(tag[2])
            parts.append(message_word_hashes(ctx, index))
    return b"".join(parts)


def _normalized(ctx: ExampleContext, roles: tuple[str, ...]) -> tuple[str, bytes, int]:
    """The normalised comparable text, its 16-byte key and ``text.count(" ") + 1``, cached on the
    context for D001 and D002."""
    cache = ctx.__dict__.setdefault("_ftkit_dup_norm", {})
    value = cache.get(roles)
    if value is None:
        composed = _composed_text(ctx, len(ctx.messages), set(roles))
        if composed is None:
            words = normalize_words(_comparable_text(ctx, roles))
            composed = (" ".join(words), len(words))
        text, count = composed
        value = cache[roles] = (text, _digest(text), max(count, 1))  # words hold no spaces
    return value


def _hashed_words(ctx: ExampleContext, roles: tuple[str, ...]) -> bytes:
    """``word_hash_bytes(normalize_words(text))`` of ``_normalized``'s text: the words D002's MinHash hashes."""
    composed = _composed_word_hashes(ctx, roles)
    if composed is not None:
        return composed
    text = _normalized(ctx, roles)[0]
    # normalising twice is not always the identity beyond ASCII (NFKC after case-folding)
    return word_hash_bytes(text.split() if text.isascii() else normalize_words(text))


def _drop(record: Mapping[str, Any]) -> None:
    """Fix: remove the record from the file."""
    return None


def _where(file: str, line: int, here: str) -> str:
    return f"line {line}" if file == here else f"{file}:{line}"


@register
class ExactDuplicate(DatasetRule):
    code = "D001"
    name = "exact-duplicate"
    summary = "An example repeats an earlier one (same text after normalising case, punctuation and spacing)."
    why = (
        "Duplicates multiply an example's weight: the model memorises it instead of generalising, and the "
        "dataset looks larger than it is. A duplicate that lands in both train and validation also "
        "inflates evaluation scores. The unsafe fix drops the later copies."
    )
    bad = "\n".join(
        [
            _line("How do I reset my password?", "Click Forgot password on the sign-in page and follow the e-mail."),
            _line("How do I reset my password?", "Click Forgot password on the sign-in page and follow the e-mail."),
        ]
    )
    good = "\n".join(
        [
            _line("How do I reset my password?", "Click Forgot password on the sign-in page and follow the e-mail."),
            _line("How do I change my e-mail address?", "Open Settings, then Account, and edit the address there."),
        ]
    )
    default_severity = Severity.WARNING
    fix_safety = "unsafe"
    options = (_ROLES_OPTION,)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._roles = tuple(self.opts["roles"])
        self._seen: dict[bytes, tuple[str, int, int]] = {}  # key -> (file, line, copies so far)

    def prepare(self, ctx: ExampleContext) -> bytes | None:
        """The key of the normalised text (``None`` for an example without text)."""
        normalized, key, _ = _normalized(ctx, self._roles)
        return key if normalized else None

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        key = self.prepared(ctx)
        if key is None:
            return ()
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = (ctx.file, ctx.line, 1)
            return ()
        file, line, copies = first
        self._seen[key] = (file, line, copies + 1)
        return (
            Finding(
                message=f"exact duplicate of the example at {_where(file, line, ctx.file)}"
                + (f" (copy {copies + 1})" if copies > 1 else ""),
                hint="drop the copy (`--unsafe-fixes` removes it) or vary it",
                fix=Fix("drop the duplicate example", "unsafe", _drop),
                extra={"duplicate_of": {"file": file, "line": line}},
            ),
        )


@register
class NearDuplicate(DatasetRule):
    code = "D002"
    name = "near-duplicate"
    summary = "An example nearly repeats an earlier one (MinHash estimate of word-shingle Jaccard similarity)."
    why = (
        "Near-duplicates (the same macro reply with another name, a thread exported twice with one line "
        "more) over-weight one behavior just like exact copies, and leak between splits. Similarity is "
        "estimated with MinHash over 3-word shingles of the normalised text; exact duplicates are left to "
        "D001. Short examples are skipped: every 'Hi!'/'Hello!' pair would match."
    )
    bad = "\n".join(
        [
            _line(
                "My order 1182 arrived with a broken handle, can I get a replacement?",
                "I am sorry the handle broke! I have sent a free replacement, it ships today and you can keep the broken one. "
                "You will get a tracking link by e-mail as soon as the parcel leaves our warehouse.",
            ),
            _line(
                "My order 1182 arrived with a broken handle, can I get a replacement?",
                "I am so sorry the handle broke! I have sent a free replacement, it ships today and you can keep the broken one. "
                "You will get a tracking link by e-mail as soon as the parcel leaves our warehouse.",
            ),
        ]
    )
    good = "\n".join(
        [
            _line(
                "My order 1182 arrived with a broken handle, can I get a replacement?",
                "I am sorry the handle broke! I have sent a free replacement, it ships today and you can keep the broken one. "
                "You will get a tracking link by e-mail as soon as the parcel leaves our warehouse.",
            ),
            _line(
                "Can I change the colour of the mug I ordered yesterday?",
                "Yes, as long as it has not shipped yet. Which colour would you like instead?",
            ),
        ]
    )
    heuristic = True
    default_severity = Severity.WARNING
    options = (
        RuleOption("threshold", "float", DEFAULT_THRESHOLD, "Estimated Jaccard similarity (0-1] from which two examples are near-duplicates."),
        RuleOption("min-words", "int", 8, "Examples with fewer words (after normalising) are not compared."),
        _ROLES_OPTION,
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        threshold = self.opts["threshold"]
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"{self.code}: option 'threshold' must be in (0, 1], got {threshold}")
        self._roles = tuple(self.opts["roles"])
        self._index = NearDuplicateIndex(threshold)
        self._exact: set[bytes] = set()

    def prepare(self, ctx: ExampleContext) -> tuple[bytes, bytes] | None:
        return self.prepare_many([ctx])[0]

    def prepare_many(self, ctxs: list[ExampleContext]) -> list[tuple[bytes, bytes] | None]:
        """Per example: ``(key of the normalised text, MinHash signature as bytes)``, ``None`` when too short.

        The signatures of a chunk are computed together (several times faster than one by one).
        """
        minimum = self.opts["min-words"]
        keys: list[bytes | None] = []
        hashes: list[bytes] = []
        for ctx in ctxs:
            _, key, word_count = _normalized(ctx, self._roles)
            if word_count < minimum:
                keys.append(None)
                continue
            keys.append(key)
            hashes.append(_hashed_words(ctx, self._roles))
        signatures = iter(get_hasher().signatures_of_word_hashes(hashes)) if hashes else iter(())
        return [None if key is None else (key, next(signatures).tobytes()) for key in keys]

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        prepared = self.prepared(ctx)
        if prepared is None:
            return ()
        key, signature = prepared
        if key in self._exact:
            return ()  # an exact duplicate: D001 reports it, and indexing it again adds nothing
        self._exact.add(key)
        # keyed by location: the index's own member lists then say where each match is
        # (the run-wide index keeps keys unique even when one file is given twice)
        matches = self._index.add_signature_bytes((ctx.file, ctx.line, ctx.index), signature, max_matches=8)
        if not matches:
            return ()
        ref = ctx.ref
        best = matches[0]
        file, line, _ = best.key  # type: ignore[misc]
        others = f" and {len(matches) - 1}{'+' if len(matches) >= 8 else ''} more" if len(matches) > 1 else ""
        return (
            Finding(
                message=f"near-duplicate of the example at {_where(file, line, ref.file)}{others} "
                f"(estimated similarity {best.similarity:.2f})",
                hint="drop or rewrite one of them; raise `threshold` if these are legitimately similar",
                score=round(best.similarity, 4),
                at=ref,
                extra={"duplicate_of": {"file": file, "line": line}, "similarity": round(best.similarity, 4)},
            ),
        )


@register
class ConflictingAnswers(DatasetRule):
    code = "D003"
    name = "conflicting-answers"
    summary = "The same prompt appears with different answers: the dataset teaches two behaviors for one input."
    why = (
        "When one conversation prefix is followed by different final replies, the model is trained towards "
        "both and learns neither: it averages, hedges, or picks at random. Decide which answer is right "
        "(or make the prompts differ in what decides it). Short prompts ('hi', 'thanks') are skipped: "
        "varied answers to them are normal."
    )
    bad = "\n".join(
        [
            _line("Can I return an item after 30 days?", "No, returns are only possible within 30 days of delivery."),
            _line("Can I return an item after 30 days?", "Yes, you can return any item at any time for a full refund."),
        ]
    )
    good = "\n".join(
        [
            _line("Can I return an item after 30 days?", "No, returns are only possible within 30 days of delivery."),
            _line("Can I return an item within 30 days?", "Yes, any item within 30 days of delivery, for a full refund."),
        ]
    )
    default_severity = Severity.WARNING
    options = (
        RuleOption("min-prompt-words", "int", 4, "Prompts whose user messages have fewer words are not compared."),
        RuleOption("include-system", "bool", True, "Whether the system prompt is part of the prompt."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._seen: dict[bytes, tuple[bytes, str, int, str]] = {}  # prompt -> (answer, file, line, preview)

    def prepare(self, ctx: ExampleContext) -> tuple[bytes, bytes, str, str] | None:
        """``(prompt key, answer key, answer preview, answer pointer)``, ``None`` when not comparable."""
        last = None
        for index in range(len(ctx.messages) - 1, -1, -1):
            message = ctx.messages[index]
            if trainable_assistant(message):
                last = index
                break
            if message.get("role") == "assistant":
                return None
        if last is None or ctx.messages[last].get("tool_calls"):
            return None
        # Short questions ("hi", "thanks!") legitimately get varied answers: count the customer's
        # words only (a long system prompt must not make every "thanks" a comparable prompt).
        user_words = 0
        for message, text in zip(ctx.messages[:last], ctx.texts[:last]):
            if message.get("role") == "user":
                user_words += text.count(" ") + 1 if text.strip() else 0
        if user_words < self.opts["min-prompt-words"]:
            return None
        roles = {"user", "assistant", "tool"} | ({"system", "developer"} if self.opts["include-system"] else set())
        composed = _composed_text(ctx, last, roles)
        if composed is not None:  # ASCII: from the shared per-message words
            prompt, answer = composed[0], _message_text(ctx, last)
        else:
            prompt = normalize_text(
                "\n".join(
                    f"<{m.get('role')}> {t}" for m, t in zip(ctx.messages[:last], ctx.texts[:last]) if m.get("role") in roles
                )
            )
            answer = normalize_text(ctx.texts[last])
        answer_text = ctx.texts[last]
        if not answer:
            return None
        return _digest(prompt), _digest(answer), preview(answer_text, 50), ctx.content_pointer(last)

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        prepared = self.prepared(ctx)
        if prepared is None:
            return ()
        prompt_key, answer_key, answer_preview, pointer = prepared
        first = self._seen.get(prompt_key)
        if first is None:
            self._seen[prompt_key] = (answer_key, ctx.file, ctx.line, answer_preview)
            return ()
        if first[0] == answer_key:
            return ()
        return (
            Finding(
                message=f"same prompt as the example at {_where(first[1], first[2], ctx.file)} but a different answer: "
                f"{answer_preview!r} vs {first[3]!r}",
                pointer=pointer,
                hint="keep the answer that is right, or make the prompts say what decides between them",
                extra={"conflicts_with": {"file": first[1], "line": first[2]}},
            ),
        )
