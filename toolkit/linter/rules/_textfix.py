"""Helpers shared by the D, P, Q, A and V rule modules: fixes that rewrite message text.

Private (the leading underscore keeps :func:`toolkit.linter.rule.load_all_rules` from
treating it as a rule module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from toolkit.dedup import ascii_word_bytes, word_hash_bytes_of_bytes

if TYPE_CHECKING:
    from toolkit.linter.rule import ExampleContext

TextFn = Callable[[str], str]


def map_message_texts(
    record: Mapping[str, Any],
    fn: TextFn,
    *,
    roles: Iterable[str] | None = None,
    indices: Iterable[int] | None = None,
) -> dict[str, Any]:
    """A copy of ``record`` with ``fn`` applied to message text.

    Applies to string contents and to the ``text`` of ``{"type": "text"}`` parts, for
    messages of ``roles`` (all if ``None``) and at ``indices`` (all if ``None``). Key order
    is kept and untouched messages are shared, not copied.
    """
    wanted_roles = set(roles) if roles is not None else None
    wanted_indices = set(indices) if indices is not None else None
    out = dict(record)
    messages = record.get("messages")
    if not isinstance(messages, list):
        return out
    new_messages: list[Any] = []
    for index, message in enumerate(messages):
        if (
            not isinstance(message, Mapping)
            or (wanted_roles is not None and message.get("role") not in wanted_roles)
            or (wanted_indices is not None and index not in wanted_indices)
        ):
            new_messages.append(message)
            continue
        content = message.get("content")
        if isinstance(content, str):
            changed = fn(content)
            new_messages.append(message if changed == content else {**message, "content": changed})
        elif isinstance(content, list):
            parts = []
            touched = False
            for part in content:
                if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    changed = fn(part["text"])
                    if changed != part["text"]:
                        touched = True
                        part = {**part, "text": changed}
                parts.append(part)
            new_messages.append({**message, "content": parts} if touched else message)
        else:
            new_messages.append(message)
    out["messages"] = new_messages
    return out


def trainable_assistant(message: Mapping[str, Any]) -> bool:
    """An assistant message a trainer learns from (``weight`` absent or not 0)."""
    return message.get("role") == "assistant" and message.get("weight", 1) != 0


def trainable_indexes(ctx: "ExampleContext") -> tuple[int, ...]:
    """Indexes in ``ctx.messages`` of the :func:`trainable_assistant` messages, ascending.

    Computed once per example (cached on the context): the rules that read only the replies a
    trainer learns from iterate these instead of testing every message themselves.
    """
    state = ctx.__dict__
    found = state.get("_ftkit_trainable")
    if found is None:
        found = state["_ftkit_trainable"] = tuple(
            index for index, message in enumerate(ctx.messages) if trainable_assistant(message))
    return found


def mask(value: str) -> str:
    """Show enough of a sensitive value to recognise it, not enough to leak it in reports."""
    value = " ".join(value.split())
    if len(value) <= 4:
        return "*" * len(value)
    keep = 2 if len(value) < 12 else 3
    return f"{value[:keep]}…{value[-keep:]}"


def preview(text: str, limit: int = 60) -> str:
    """A one-line preview of ``text`` for messages."""
    if len(text) > 4 * limit:
        # Flattening a head of the text gives a prefix of the flattened whole; when that prefix
        # is already longer than the limit, it decides the preview (no need to split a long text).
        head = " ".join(text[: 2 * limit].split())
        if len(head) > limit:
            return head[: limit - 1] + "…"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def message_word_bytes(ctx: "ExampleContext") -> list[list[bytes]] | None:
    """``normalize_words`` of each message's text, each word as its ASCII bytes, when all the
    texts are ASCII, else ``None``.

    On ASCII text normalising is lower-casing, punctuation to spaces and splitting, all per
    character, so the words of texts joined by white space are the words of each text in
    turn: D001, D002 and D003 build their normalised texts from these (one pass over the
    example) instead of normalising each composition again, and Q003 reuses them when its
    own tokenisation would give the same words. Bytes words cost less to make than ``str``
    ones, and the word hashes, n-gram counts and loop tests come out the same. Cached on the
    context; do not modify.
    """
    state = ctx.__dict__
    try:
        return state["_ftkit_dup_word_bytes"]
    except KeyError:
        texts = ctx.texts
        value = state["_ftkit_dup_word_bytes"] = (
            list(map(ascii_word_bytes, texts)) if all(map(str.isascii, texts)) else None)
        return value


def message_word_hashes(ctx: "ExampleContext", index: int) -> bytes:
    """``word_hash_bytes`` of the words of ``message_word_bytes(ctx)[index]`` (which must not be ``None``), cached.

    Q003 counts distinct word n-grams over these hashes and D002 builds its MinHash
    signatures from them: each message's words are looked up in the hash cache once.
    """
    state = ctx.__dict__
    hashes = state.get("_ftkit_dup_hashes")
    if hashes is None:
        hashes = state["_ftkit_dup_hashes"] = [None] * len(ctx.texts)
    value = hashes[index]
    if value is None:
        value = hashes[index] = word_hash_bytes_of_bytes(message_word_bytes(ctx)[index])  # type: ignore[index]
    return value
