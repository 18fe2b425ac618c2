"""PII redaction with typed, per-conversation numbered placeholders.

Wraps :class:`toolkit.pii.Redactor`: one redactor per conversation, so the same email
becomes the same ``<EMAIL_1>`` in every turn of that conversation and a different person
in the next conversation starts again at ``<PERSON_1>``. The participants' own names,
emails and phone numbers known from the export (``Conversation.participants`` and turn
authors) are passed to the redactor, so "Hi Jane," is caught even though "Jane" is not a
pattern. Tool-call arguments and tool results are redacted too (string values only, so
the JSON stays valid).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable

from toolkit.model import Conversation, ToolInvocation
from toolkit.transforms.base import ConvertReport, Step, evolve

# Names shorter than this are not passed as names: "Al" or "Jo" would hit ordinary words.
_MIN_NAME_LENGTH = 3
# Handles: no spaces, and a separator, a digit or all lower case ("jules_k", "meera.s", "tom88").
_HANDLE = re.compile(r"[._\-\d]|^[a-z]+$")
_HANDLE_SPLIT = re.compile(r"[._\-\d]+")
_NAME_WORD = re.compile(r"^[A-Z][a-z\u00df-\u00ff'\-]+$")
# Display names that are roles, not people.
_NOT_NAMES = {
    "customer", "agent", "support", "admin", "bot", "system", "user", "team", "operator", "assistant",
    "visitor", "guest", "unknown", "anonymous", "lead", "contact", "helpdesk", "service", "customer service",
    "care", "desk", "staff", "sales", "billing", "help", "the", "of", "and", "info", "noreply", "no-reply", "from", "at",
}


def participant_identifiers(conversation: Conversation) -> tuple[list[str], list[str], list[str]]:
    """Names, emails and phones of everyone in the conversation (sorted, de-duplicated).

    Full names are passed whole (the redactor also catches the first name alone, which is
    how people are greeted); role-like display names ("Support", "Customer") are left out.
    """
    names: set[str] = set()
    emails: set[str] = set()
    phones: set[str] = set()

    def add_name(value: Any) -> None:
        if not isinstance(value, str):
            return
        value = value.strip()
        if not value or "@" in value:
            if "@" in value:
                emails.add(value)
            return
        words = [w for w in re.split(r"[\s,]+", value.casefold()) if w]
        if all(w in _NOT_NAMES for w in words):
            return  # "Support", "Support Team", "Customer Service": roles, not people
        if " " not in value and _HANDLE.search(value):
            # A user handle ("jules_k", "john.smith", "meera.s"): people are greeted by the name in it.
            parts = [p.capitalize() for p in _HANDLE_SPLIT.split(value) if len(p) >= _MIN_NAME_LENGTH and p.isalpha()]
            parts = [p for p in parts if p.casefold() not in _NOT_NAMES]
            if parts:
                names.add(" ".join(parts))
            return
        kept = [w for w in value.split() if w.casefold().strip(",.") not in _NOT_NAMES]
        if len(kept) < len(value.split()):
            # "Agent Tom" -> "Tom"; "BrightBank Customer Care" is a team, not a person.
            if not all(_NAME_WORD.match(w) for w in kept):
                return
            value = " ".join(kept)
        # Whole names only: the redactor maps a first name alone to the same <PERSON_n>.
        if len(value) >= _MIN_NAME_LENGTH:
            names.add(value)

    for participant in conversation.participants:
        add_name(participant.name)
        if participant.email:
            emails.add(participant.email)
        if participant.phone:
            phones.add(participant.phone)
    for turn in conversation.turns:
        add_name(turn.author)
    return sorted(names), sorted(emails), sorted(phones)


class RedactPII(Step):
    """Replace personal data in every turn with typed placeholders (``<EMAIL_1>``, ``<PERSON_2>`` ...).

    ``kinds`` limits the kinds redacted (``None``: all kinds :mod:`toolkit.pii` knows);
    ``names`` adds names to redact in every conversation (e.g. your agents' first names);
    ``participants`` (default on) adds the conversation's own participants.
    """

    name = "redact"

    def __init__(self, kinds: Iterable[str] | None = None, *, names: Iterable[str] = (), participants: bool = True):
        # Import here so that a pipeline without redaction never needs the PII module; check
        # the kinds now so that a typo fails before the run starts.
        from toolkit import pii

        pii.Redactor(kinds=kinds)
        self.kinds = list(kinds) if kinds is not None else None
        self.names = list(names)
        self.participants = participants

    def make_redactor(self, conversation: Conversation) -> Any:
        names, emails, phones = participant_identifiers(conversation) if self.participants else ([], [], [])
        names = sorted(set(names) | set(self.names))
        # Only identifiers that occur in the conversation can be redacted from it; leaving the
        # others out keeps the redactor's compiled name pattern small and often shared.
        blob = _conversation_text(conversation).casefold()
        digits = "".join(ch for ch in blob if ch.isdigit())
        names = [n for n in names if any(part in blob for part in _name_parts(n))]
        # An address the detector finds by itself needs no extra pattern (compiling one per
        # conversation is the redactor's main set-up cost); keep only the unusual ones.
        emails = [e for e in emails if e.strip().casefold() in blob and not _detected_email(e.strip())]
        phones = [p for p in phones if _phone_tail(p) and _phone_tail(p) in digits]
        from toolkit.pii import Redactor

        return Redactor(kinds=self.kinds, names=names, emails=emails, phones=phones)

    def process(self, conversation: Conversation, report: ConvertReport) -> Conversation:
        redactor = self.make_redactor(conversation)
        turns = []
        changed = 0
        for turn in conversation.turns:
            text = redactor.redact(turn.text) if turn.text else turn.text
            calls = [
                ToolInvocation(name=c.name, arguments=_redact_value(c.arguments, redactor), id=c.id) for c in turn.tool_calls
            ]
            if text != turn.text or calls != turn.tool_calls:
                changed += 1
                turn = evolve(turn, text=text, tool_calls=calls)
            turns.append(turn)
        report.adjust("redacted-turns", changed)
        return evolve(conversation, turns=turns)


@lru_cache(maxsize=4096)
def _detected_email(email: str) -> bool:
    """Whether :func:`toolkit.pii.find_pii` on its own finds this whole address as an email."""
    from toolkit.pii import find_pii

    matches = find_pii(email, kinds=["email"])
    return len(matches) == 1 and matches[0].start == 0 and matches[0].end == len(email)


def _conversation_text(conversation: Conversation) -> str:
    parts: list[str] = []
    for turn in conversation.turns:
        parts.append(turn.text)
        for call in turn.tool_calls:
            parts.append(str(call.arguments))
    return "\n".join(parts)


def _name_parts(name: str) -> list[str]:
    """Case-folded pieces of a name any of which must occur for the name to be matchable."""
    parts = [p.strip(".'\"()").casefold() for p in name.replace(",", " ").split()]
    return [p for p in parts if len(p) >= 2] or [name.casefold()]


def _phone_tail(phone: str) -> str:
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


def _redact_value(value: Any, redactor: Any) -> Any:
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, redactor) for v in value]
    return value
