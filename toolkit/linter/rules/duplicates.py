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
    normalize_words,
    word_hash_bytes,
)
from toolkit.diagnostics import Severity
from toolkit.linter.rule import DatasetRule, ExampleContext, Finding, Fix, RuleOption, register
from toolkit.linter.rules._textfix import message_word_bytes, message_word_hashes, preview, trainable_assistant


def _line(user: str, assistant: str, system: str | None = None) -> str:
    parts = []
    if system is not None:
        parts.append('{"role": "system", "content": "' + system + '"}')
    parts.append('{"role": "user", "content": "' + user + '"}')
    parts.append('{"role": "assistant", "content": "' + assistant + '"}')
    return '{"messages": [' + ", ".join(parts) + "]}"


def _key(word_hashes: bytes) -> bytes:
    """The 16-byte key of a normalised text, from its words' :func:`word_hash_bytes`.

    Equal texts have equal word hashes, so equal keys. Hashing the word hashes (8 bytes a word,
    already made for MinHash and Q003) spares joining the words into a text first; two different
    texts get one key only if they differ solely in words whose 64-bit hashes collide.
    """
    return hashlib.blake2b(word_hashes, digest_size=16).digest()


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


# role -> the word hashes of the normalised tag ``<role>``
_TAG_HASHES: dict[Any, bytes] = {}


def _tag_hashes(role: Any) -> bytes | None:
    """``word_hash_bytes`` of the normalised words of a role tag ``<role>``, ``None`` when the tag is not ASCII."""
    try:
        value = _TAG_HASHES.get(role)
    except TypeError:  # an unhashable role value
        value = None
    if value is None:
        tag = f"<{role}>"
        if not tag.isascii():
            return None
        value = word_hash_bytes(normalize_words(tag))
        if len(_TAG_HASHES) < 1024:
            try:
                _TAG_HASHES[role] = value
            except TypeError:
                pass
    return value


def _composed_word_hashes(ctx: ExampleContext, upto: int, wanted: set[str]) -> bytes | None:
    """``word_hash_bytes(normalize_words("\\n".join(f"<{role}> {text}" ...)))`` over ``messages[:upto]``
    whose role is wanted, from each message's cached hashes (shared with Q003); ``None`` when some
    text or tag is not ASCII."""
    if message_word_bytes(ctx) is None:
        return None
    parts: list[bytes] = []
    for index, message in enumerate(ctx.messages[:upto]):
        role = message.get("role")
        if role in wanted:
            tag = _tag_hashes(role)
            if tag is None:
                return None
            parts.append(tag)
            parts.append(message_word_hashes(ctx, index))
    return b"".join(parts)


def _normalized(ctx: ExampleContext, roles: tuple[str, ...]) -> tuple[bytes, int, bytes]:
    """The key of the normalised comparable text, its number of words, and the word hashes D002's
    MinHash takes (those of ``normalize_words`` of that text), cached on the context for D001 and D002."""
    cache = ctx.__dict__.setdefault("_ftkit_dup_norm", {})
    value = cache.get(roles)
    if value is None:
        hashes = _composed_word_hashes(ctx, len(ctx.messages), set(roles))
        if hashes is not None:
            value = (_key(hashes), len(hashes) // 8, hashes)
        else:
            words = normalize_words(_comparable_text(ctx, roles))
            text = " ".join(words)
            hashes = word_hash_bytes(words)
            # normalising twice is not always the identity beyond ASCII (NFKC after case-folding)
            hashed = hashes if text.isascii() else word_hash_bytes(normalize_words(text))
            value = (_key(hashes), len(words), hashed)
        cache[roles] = value
    return value


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
        key, word_count, _ = _normalized(ctx, self._roles)
        return key if word_count else None

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
            key, word_count, hashed = _normalized(ctx, self._roles)
            if max(word_count, 1) < minimum:  # (an empty text counts as one word)
                keys.append(None)
                continue
            keys.append(key)
            hashes.append(hashed)
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
                user_words += text.count(" ") + 1 if text and not text.isspace() else 0  # (strip() would copy)
        if user_words < self.opts["min-prompt-words"]:
            return None
        roles = {"user", "assistant", "tool"} | ({"system", "developer"} if self.opts["include-system"] else set())
        prompt = _composed_word_hashes(ctx, last, roles)
        if prompt is not None:  # ASCII: from the shared per-message hashes
            answer = message_word_hashes(ctx, last)
        else:
            prompt_words = normalize_words(
                "\n".join(
                    f"<{m.get('role')}> {t}" for m, t in zip(ctx.messages[:last], ctx.texts[:last]) if m.get("role") in roles
                )
            )
            prompt, answer = word_hash_bytes(prompt_words), word_hash_bytes(normalize_words(ctx.texts[last]))
        if not answer:
            return None
        return _key(prompt), _key(answer), preview(ctx.texts[last], 50), ctx.content_pointer(last)

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
