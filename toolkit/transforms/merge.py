"""Merge consecutive turns of one speaker into one turn.

Chat customers often send a question in three quick lines; agents send a greeting and then
the answer. Trainers want one message per turn, and several targets (Bedrock, Together,
ShareGPT for LLaMA-Factory) require strict user/assistant alternation. Turns are joined
with ``separator`` (a blank line by default). Empty turns are removed (and counted) first.

Turns carrying tool calls are merged only where the result stays valid: text followed by
an agent turn that calls tools becomes one assistant message with content and tool calls;
a turn that already called tools is never merged with a later one (its tool results must
come between). Merges are counted in the report as adjustments.
"""

from __future__ import annotations


from toolkit.model import Conversation, Speaker, Turn
from toolkit.transforms.base import ConvertReport, Step, evolve


class MergeConsecutive(Step):
    """Join runs of turns by the same speaker (customer or agent)."""

    name = "merge"

    def __init__(self, separator: str = "\n\n", *, drop_empty: bool = True):
        self.separator = separator
        self.drop_empty = drop_empty

    def process(self, conversation: Conversation, report: ConvertReport) -> Conversation:
        out: list[Turn] = []
        for turn in conversation.turns:
            if self.drop_empty and not turn.text.strip() and not turn.tool_calls and turn.speaker is not Speaker.TOOL:
                report.drop_turns("empty")
                continue
            previous = out[-1] if out else None
            if (
                previous is not None
                and previous.speaker is turn.speaker
                and turn.speaker in (Speaker.CUSTOMER, Speaker.AGENT)
                and not previous.tool_calls
                and previous.metadata.get("weight") == turn.metadata.get("weight")
            ):
                text = self.separator.join(t for t in (previous.text, turn.text) if t)
                metadata = dict(previous.metadata)
                merged_ids = list(metadata.get("merged_turn_ids") or ([previous.id] if previous.id else []))
                if turn.id:
                    merged_ids.append(turn.id)
                if merged_ids:
                    metadata["merged_turn_ids"] = merged_ids
                out[-1] = evolve(previous, text=text, tool_calls=list(turn.tool_calls), metadata=metadata)
                report.adjust("merged-turns")
                continue
            out.append(turn)
        return evolve(conversation, turns=out)
