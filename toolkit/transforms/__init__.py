"""Transforms: one module per cleaning step, composable as a :class:`Pipeline`.

A step is a callable ``step(items, report) -> iterator`` (datatrove style). The default
order, as :func:`build_pipeline` assembles it::

    FilterConversations   metadata filters: CSAT, status, channel, language, tags, dates
    MapRoles              customer -> user, agent -> assistant; drop notes, bots, system events
    StripQuotedText       quoted email history, signatures, mobile footers, sign-offs
    MergeConsecutive      one message per speaker turn; empty turns dropped
    RequireTurns          min turns, drop leading agent turns, end with an agent reply
    RedactPII             typed, per-conversation numbered placeholders
    SystemPrompt          the brand voice, from text or a file
    ToExamples            Conversation -> Example (whole or per reply, token budget, provenance)

Any plain generator function ``def step(items): ...`` can be put in a pipeline too.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from toolkit.transforms.base import ConvertReport, Pipeline, SkipRecord, Step
from toolkit.transforms.cleanup import StripQuotedText, strip_quoted, strip_signature
from toolkit.transforms.examples import ToExamples, conversation_messages, provenance
from toolkit.transforms.filters import FilterConversations, RequireTurns
from toolkit.transforms.merge import MergeConsecutive
from toolkit.transforms.redact import RedactPII, participant_identifiers
from toolkit.transforms.roles import MapRoles
from toolkit.transforms.system_prompt import SystemPrompt

# Every option build_pipeline understands, with its default (documented in README "convert").
PIPELINE_DEFAULTS: dict[str, Any] = {
    # roles
    "roles": None,
    "keep_bots": False,
    "drop_authors": (),
    "drop_pattern": None,
    # cleaning
    "strip_quotes": True,
    "strip_signatures": True,
    "strip_signoffs": True,
    "merge": True,
    "merge_separator": "\n\n",
    # PII
    "redact": True,
    "pii_kinds": None,
    "redact_names": (),
    # system prompt
    "system_prompt": None,
    "system_prompt_file": None,
    "system_prompt_mode": "replace",
    # filters
    "csat": None,
    "min_csat": None,
    "missing_csat": "skip",
    "status": None,
    "channel": None,
    "language": None,
    "tags": None,
    "exclude_tags": None,
    "since": None,
    "until": None,
    "min_turns": 2,
    "end_with_agent": "trim",
    "leading_agent": "drop",
    # examples
    "examples": "conversation",
    "max_tokens": None,
    "encoding": "o200k_base",
    "overflow": "split",
    "tools": None,
    "infer_tools": True,
}


def build_pipeline(**options: Any) -> Pipeline:
    """The default pipeline, configured by keyword options (see :data:`PIPELINE_DEFAULTS`).

    Unknown option names raise ``TypeError`` naming them, so a typo in a config file or a
    call is not silently ignored.
    """
    unknown = sorted(set(options) - set(PIPELINE_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown pipeline option(s): {', '.join(unknown)}; known: {', '.join(PIPELINE_DEFAULTS)}")
    o = {**PIPELINE_DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    steps: list[Step] = []
    filters = FilterConversations(
        csat=o["csat"], min_csat=o["min_csat"], missing_csat=o["missing_csat"], status=o["status"],
        channel=o["channel"], language=o["language"], tags=o["tags"], exclude_tags=o["exclude_tags"],
        since=o["since"], until=o["until"],
    )
    if filters.active:
        steps.append(filters)
    steps.append(MapRoles(o["roles"], keep_bots=bool(o["keep_bots"]), drop_authors=o["drop_authors"] or (),
                          drop_pattern=o["drop_pattern"]))
    if o["strip_quotes"] or o["strip_signatures"]:
        steps.append(StripQuotedText(quotes=bool(o["strip_quotes"]), signatures=bool(o["strip_signatures"]),
                                     signoffs=bool(o["strip_signoffs"])))
    if o["merge"]:
        steps.append(MergeConsecutive(o["merge_separator"]))
    steps.append(RequireTurns(int(o["min_turns"]), end_with_agent=o["end_with_agent"], leading_agent=o["leading_agent"]))
    if o["redact"]:
        steps.append(RedactPII(o["pii_kinds"], names=o["redact_names"] or ()))
    if o["system_prompt"] is not None or o["system_prompt_file"] is not None:
        steps.append(SystemPrompt(o["system_prompt"], file=o["system_prompt_file"], mode=o["system_prompt_mode"]))
    elif o["system_prompt_mode"] == "remove":
        steps.append(SystemPrompt(mode="remove"))
    steps.append(ToExamples(o["examples"], max_tokens=o["max_tokens"], encoding=o["encoding"], overflow=o["overflow"],
                            tools=o["tools"], infer_tools=bool(o["infer_tools"])))
    return Pipeline(steps)


def pipeline_options(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``mapping`` that :func:`build_pipeline` understands."""
    return {k: v for k, v in mapping.items() if k in PIPELINE_DEFAULTS}


__all__ = [
    "ConvertReport",
    "FilterConversations",
    "MapRoles",
    "MergeConsecutive",
    "PIPELINE_DEFAULTS",
    "Pipeline",
    "RedactPII",
    "RequireTurns",
    "SkipRecord",
    "Step",
    "StripQuotedText",
    "SystemPrompt",
    "ToExamples",
    "build_pipeline",
    "conversation_messages",
    "participant_identifiers",
    "pipeline_options",
    "provenance",
    "strip_quoted",
    "strip_signature",
]


