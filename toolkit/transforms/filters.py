"""Filters: keep the conversations worth teaching from, report every one skipped and why.

* :class:`FilterConversations` looks at conversation metadata: CSAT, status, channel,
  language, tags, creation date range. Put it first: it is cheap and saves the later steps.
* :class:`RequireTurns` looks at the turns left after cleaning: a minimum number of
  messages, at least one customer message and one agent reply, and (by default) trims
  trailing customer turns so that every example ends with an agent reply.

Each skip has a kebab-case reason (``csat-filtered``, ``too-few-turns`` ...) counted in the
report and written to ``--skipped FILE`` with the conversation's file, record and id.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable

from toolkit.model import Conversation, Speaker
from toolkit.transforms.base import ConvertReport, Step, evolve


def csat_value(csat: Any) -> str | None:
    """A comparable CSAT value: the score of a rating object, lower-cased, as a string.

    Zendesk gives ``{"score": "good"}``, Intercom ``{"rating": 5}``, Freshdesk a number;
    readers may keep the object. ``"offered"`` / ``"unoffered"`` mean no rating was given.
    """
    if isinstance(csat, dict):
        for key in ("score", "rating", "value"):
            if key in csat:
                return csat_value(csat[key])
        return None
    if csat is None or isinstance(csat, bool):
        return None
    text = str(csat).strip().casefold()
    if text in ("", "offered", "unoffered", "none", "null"):
        return None
    if isinstance(csat, float) and csat.is_integer():
        text = str(int(csat))
    return text


def parse_time(value: Any) -> _dt.datetime | None:
    """Parse an ISO 8601 date or datetime (``Z`` allowed); naive values are taken as UTC."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _dt.datetime.fromtimestamp(value, tz=_dt.timezone.utc)
    text = str(value).strip()
    if not text:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = _dt.datetime.combine(_dt.date.fromisoformat(text[:10]), _dt.time())
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed


def _bound(value: str | None, name: str, *, end: bool = False) -> _dt.datetime | None:
    if value is None:
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"{name}: {value!r} is not an ISO 8601 date or datetime (e.g. 2024-01-31)")
    if end and len(str(value).strip()) == 10:  # a bare date as the upper bound includes that whole day
        parsed = parsed + _dt.timedelta(days=1) - _dt.timedelta(microseconds=1)
    return parsed


def _fold(values: Iterable[Any] | None) -> set[str] | None:
    if values is None:
        return None
    folded = {str(v).strip().casefold() for v in values}
    return folded or None


class FilterConversations(Step):
    """Keep conversations whose metadata matches every given condition.

    Parameters (``None`` = no condition):
    ``csat``: accepted ratings (``["good"]``, ``["4", "5"]``); ``min_csat``: numeric lower
    bound; ``missing_csat``: ``"skip"`` (default when a CSAT condition is set) or ``"keep"``.
    ``status``, ``channel``: accepted values (case-insensitive). ``language``: accepted
    language codes, matching by prefix (``en`` keeps ``en-GB``). ``tags`` / ``exclude_tags``:
    keep only conversations with one of / none of these tags. ``since`` / ``until``: ISO
    dates bounding ``created_at`` (or the first turn's time); a bare ``until`` date
    includes that day.
    """

    name = "filter"

    def __init__(
        self,
        *,
        csat: Iterable[Any] | None = None,
        min_csat: float | None = None,
        missing_csat: str = "skip",
        status: Iterable[str] | None = None,
        channel: Iterable[str] | None = None,
        language: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        exclude_tags: Iterable[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ):
        if missing_csat not in ("skip", "keep"):
            raise ValueError(f"missing_csat must be 'skip' or 'keep', got {missing_csat!r}")
        self.csat = _fold(csat)
        self.min_csat = min_csat
        self.missing_csat = missing_csat
        self.status = _fold(status)
        self.channel = _fold(channel)
        self.language = _fold(language)
        self.tags = _fold(tags)
        self.exclude_tags = _fold(exclude_tags)
        self.since = _bound(since, "since")
        self.until = _bound(until, "until", end=True)
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({since}) is after until ({until})")

    @property
    def active(self) -> bool:
        return any(
            v is not None
            for v in (self.csat, self.min_csat, self.status, self.channel, self.language, self.tags,
                      self.exclude_tags, self.since, self.until)
        )

    def reason(self, conversation: Conversation) -> tuple[str, str] | None:
        """Why ``conversation`` is filtered out, as ``(reason, detail)``, or ``None`` to keep it."""
        if self.csat is not None or self.min_csat is not None:
            value = csat_value(conversation.csat)
            if value is None:
                if self.missing_csat == "skip":
                    return "csat-missing", "no satisfaction rating and a CSAT filter is set"
            else:
                if self.csat is not None and value not in self.csat:
                    return "csat-filtered", f"rating {value!r} not in {sorted(self.csat)}"
                if self.min_csat is not None:
                    try:
                        number = float(value)
                    except ValueError:
                        return "csat-filtered", f"rating {value!r} is not a number (min_csat={self.min_csat})"
                    if number < self.min_csat:
                        return "csat-filtered", f"rating {value} below {self.min_csat}"
        if self.status is not None and (conversation.status or "").casefold() not in self.status:
            return "status-filtered", f"status {conversation.status!r} not in {sorted(self.status)}"
        if self.channel is not None and (conversation.channel or "").casefold() not in self.channel:
            return "channel-filtered", f"channel {conversation.channel!r} not in {sorted(self.channel)}"
        if self.language is not None:
            lang = (conversation.language or "").casefold().replace("_", "-")
            if not any(lang == code or lang.startswith(code + "-") for code in self.language):
                return "language-filtered", f"language {conversation.language!r} not in {sorted(self.language)}"
        tags = {t.casefold() for t in conversation.tags}
        if self.tags is not None and not tags & self.tags:
            return "tag-filtered", f"none of the tags {sorted(self.tags)}"
        if self.exclude_tags is not None and tags & self.exclude_tags:
            return "tag-filtered", f"has excluded tag(s) {sorted(tags & self.exclude_tags)}"
        if self.since is not None or self.until is not None:
            when_raw = conversation.created_at or next((t.time for t in conversation.turns if t.time), None)
            when = parse_time(when_raw)
            if when is None:
                return "date-missing", "no creation date and a date range is set"
            if self.since is not None and when < self.since:
                return "date-filtered", f"created {when_raw} before {self.since.isoformat()}"
            if self.until is not None and when > self.until:
                return "date-filtered", f"created {when_raw} after {self.until.isoformat()}"
        return None

    def process(self, conversation: Conversation, report: ConvertReport) -> Conversation | None:
        found = self.reason(conversation)
        if found is None:
            return conversation
        report.skip(found[0], found[1], conversation=conversation, step=self.name)
        return None


class RequireTurns(Step):
    """Structural filter on the cleaned turns.

    ``min_turns``: minimum number of customer + agent messages (default 2: one exchange).
    ``end_with_agent``: ``"trim"`` (default) drops trailing customer / tool turns so the
    example ends with the agent's reply (counted as ``trailing-unanswered`` turn drops);
    ``"require"`` skips conversations that do not end with an agent reply; ``"off"``
    leaves them. ``leading_agent``: ``"drop"`` (default) removes agent turns before the
    customer's first message (a proactive greeting has no question to answer, and most
    targets want the user to speak first); ``"keep"`` leaves them.
    """

    name = "require-turns"

    def __init__(self, min_turns: int = 2, *, end_with_agent: str = "trim", leading_agent: str = "drop"):
        if end_with_agent not in ("trim", "require", "off"):
            raise ValueError(f"end_with_agent must be trim, require or off, got {end_with_agent!r}")
        if leading_agent not in ("drop", "keep"):
            raise ValueError(f"leading_agent must be drop or keep, got {leading_agent!r}")
        if min_turns < 0:
            raise ValueError("min_turns must be >= 0")
        self.min_turns = min_turns
        self.end_with_agent = end_with_agent
        self.leading_agent = leading_agent

    def process(self, conversation: Conversation, report: ConvertReport) -> Conversation | None:
        turns = list(conversation.turns)
        if not any(t.speaker is Speaker.CUSTOMER for t in turns):
            report.skip("no-customer-message", "no customer message left after cleaning", conversation=conversation, step=self.name)
            return None
        if not any(t.speaker is Speaker.AGENT for t in turns):
            report.skip("no-agent-reply", "no agent reply left after cleaning", conversation=conversation, step=self.name)
            return None
        if self.leading_agent == "drop":
            first_customer = next(i for i, t in enumerate(turns) if t.speaker is Speaker.CUSTOMER)
            if first_customer:
                report.drop_turns("leading-agent", first_customer)
                turns = turns[first_customer:]
        if self.end_with_agent != "off" and turns[-1].speaker is not Speaker.AGENT:
            if self.end_with_agent == "require":
                report.skip("ends-without-agent-reply", f"last turn is {turns[-1].speaker.value}", conversation=conversation,
                            step=self.name)
                return None
            last_agent = max(i for i, t in enumerate(turns) if t.speaker is Speaker.AGENT)
            # An agent turn that only called tools is not a reply: keep trimming past it.
            while last_agent >= 0 and turns[last_agent].tool_calls and not turns[last_agent].text.strip():
                last_agent -= 1
                while last_agent >= 0 and turns[last_agent].speaker is not Speaker.AGENT:
                    last_agent -= 1
            if last_agent < 0 or not any(t.speaker is Speaker.CUSTOMER for t in turns[: last_agent + 1]):
                report.skip("no-agent-reply", "no agent reply after the customer's message", conversation=conversation,
                            step=self.name)
                return None
            report.drop_turns("trailing-unanswered", len(turns) - last_agent - 1)
            turns = turns[: last_agent + 1]
        messages = sum(1 for t in turns if t.speaker in (Speaker.CUSTOMER, Speaker.AGENT))
        if messages < self.min_turns:
            report.skip("too-few-turns", f"{messages} message(s), fewer than {self.min_turns}", conversation=conversation,
                        step=self.name)
            return None
        return evolve(conversation, turns=turns)
