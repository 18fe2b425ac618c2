"""Guess a record's format from its keys (``--format auto``)."""

from __future__ import annotations

from typing import Any, Mapping


def detect_target(record: Any) -> str | None:
    """The target whose layout ``record`` has, or ``None`` when it matches none.

    Decided by top-level keys, then by details that tell OpenAI-style dialects apart:
    ``input`` + ``preferred_output`` -> openai-dpo; ``contents`` -> vertex; ``conversations``
    -> sharegpt; ``instruction`` + ``output`` -> alpaca; ``prompt``/``completion``,
    ``chosen``/``rejected`` or ``text`` -> trl; ``messages`` with a top-level ``system`` or
    ``anthropic_version``/``schemaVersion`` -> bedrock; Mistral-style 9-character tool call
    ids -> mistral; any other ``messages`` record -> openai.
    """
    if type(record) is not dict and not isinstance(record, Mapping):  # (the exact type first: the ABC check is slow)
        return None
    keys = set(record)
    if "input" in keys and ("preferred_output" in keys or "non_preferred_output" in keys):
        return "openai-dpo"
    if "contents" in keys:
        return "vertex"
    if "conversations" in keys:
        return "sharegpt"
    if "instruction" in keys and ("output" in keys or "input" in keys):
        return "alpaca"
    if "messages" in keys:
        if {"anthropic_version", "schemaVersion"} & keys or isinstance(record.get("system"), (str, list)):
            return "bedrock"
        messages = record.get("messages")
        if isinstance(messages, list) and _mistral_ids(messages):
            return "mistral"
        return "openai"
    if {"chosen", "rejected"} & keys or {"prompt", "completion"} <= keys or ("text" in keys and len(keys - {"metadata", "id"}) == 1):
        return "trl"
    if "prompt" in keys:
        return "trl"
    return None


def _mistral_ids(messages: list[Any]) -> bool:
    """True when every tool call id is exactly 9 letters/digits (Mistral's rule) and there is at least one."""
    ids = [
        call.get("id")
        for message in messages
        if (type(message) is dict or isinstance(message, Mapping)) and isinstance(message.get("tool_calls"), list)
        for call in message["tool_calls"]
        if isinstance(call, Mapping)
    ]
    return bool(ids) and all(isinstance(i, str) and len(i) == 9 and i.isalnum() and i.isascii() for i in ids)
