"""Role mapping: which helpdesk speakers become ``user`` / ``assistant`` / ``tool``, which are dropped.

By default customers are the user, agents the assistant, tool results stay tool results,
and internal notes, bot turns and system events ("Eric joined the chat", status changes)
are removed. ``keep_bots=True`` keeps bot turns as assistant turns (for teams whose bot
replies are part of the behavior to teach). Dropped turns are counted in the report by
reason (``internal-note``, ``bot``, ``system-event``), never silently.

Turn speakers are rewritten in place on a copy of the conversation: after this step every
turn is CUSTOMER, AGENT or TOOL, which is what :class:`ToExamples` expects.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from toolkit.model import Conversation, Speaker
from toolkit.transforms.base import ConvertReport, Step, evolve

# Target of a speaker: "user", "assistant", "tool" or "drop".
ROLE_CHOICES = ("user", "assistant", "tool", "drop")
_TARGET_SPEAKER = {"user": Speaker.CUSTOMER, "assistant": Speaker.AGENT, "tool": Speaker.TOOL}
_DROP_REASON = {
    Speaker.NOTE: "internal-note",
    Speaker.BOT: "bot",
    Speaker.SYSTEM: "system-event",
    Speaker.CUSTOMER: "customer",
    Speaker.AGENT: "agent",
    Speaker.TOOL: "tool",
}

DEFAULT_ROLES: dict[Speaker, str] = {
    Speaker.CUSTOMER: "user",
    Speaker.AGENT: "assistant",
    Speaker.TOOL: "tool",
    Speaker.BOT: "drop",
    Speaker.SYSTEM: "drop",
    Speaker.NOTE: "drop",
}


class MapRoles(Step):
    """Map speakers to chat roles and drop the rest.

    Parameters
    ----------
    roles:
        Overrides of :data:`DEFAULT_ROLES`, keyed by speaker (``Speaker`` or its value:
        ``{"bot": "assistant"}``). Internal notes can never be mapped to a role that a model
        would be trained on or shown: mapping ``note`` to anything but ``drop`` is refused,
        because notes hold what the customer must not see.
    keep_bots:
        Shorthand for ``{"bot": "assistant"}``.
    drop_authors:
        Display names or author ids whose turns are dropped whatever their speaker
        (e.g. an auto-responder account). Matched case-insensitively.
    drop_pattern:
        A regular expression; turns whose whole text matches it are dropped as
        ``system-event`` (e.g. ``"^Chat (started|ended)"``).
    """

    name = "roles"

    def __init__(
        self,
        roles: Mapping[Speaker | str, str] | None = None,
        *,
        keep_bots: bool = False,
        drop_authors: Iterable[str] = (),
        drop_pattern: str | None = None,
    ):
        mapping = dict(DEFAULT_ROLES)
        if keep_bots:
            mapping[Speaker.BOT] = "assistant"
        for key, value in (roles or {}).items():
            speaker = Speaker(key) if not isinstance(key, Speaker) else key
            if value not in ROLE_CHOICES:
                raise ValueError(f"role mapping for {speaker.value!r} must be one of {', '.join(ROLE_CHOICES)}, got {value!r}")
            if speaker is Speaker.NOTE and value != "drop":
                raise ValueError("internal notes cannot be mapped to a chat role: they are never shown to customers")
            mapping[speaker] = value
        self.mapping = mapping
        self.drop_authors = {a.casefold() for a in drop_authors}
        self.drop_pattern = re.compile(drop_pattern) if drop_pattern else None

    def process(self, conversation: Conversation, report: ConvertReport) -> Conversation:
        turns = []
        for turn in conversation.turns:
            target = self.mapping.get(turn.speaker, "drop")
            if target == "drop":
                report.drop_turns(_DROP_REASON[turn.speaker])
                continue
            if self.drop_authors and (
                (turn.author or "").casefold() in self.drop_authors or (turn.author_id or "").casefold() in self.drop_authors
            ):
                report.drop_turns("dropped-author")
                continue
            if self.drop_pattern is not None and self.drop_pattern.fullmatch(turn.text.strip()):
                report.drop_turns("system-event")
                continue
            speaker = _TARGET_SPEAKER[target]
            turns.append(turn if speaker is turn.speaker else evolve(turn, speaker=speaker))
        return evolve(conversation, turns=turns)

    def __repr__(self) -> str:
        changed = {k.value: v for k, v in self.mapping.items() if DEFAULT_ROLES.get(k) != v}
        return f"MapRoles({changed!r})"
