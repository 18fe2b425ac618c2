"""What each target accepts: its schema, roles, ordering rules and documented limits.

Where a provider documents a rule, breaking it is an error; where ftkit only recommends it
(the provider accepts the data but it trains badly), it is a warning. Sources (checked
2025): OpenAI fine-tuning guide (minimum 10 examples, weight 0/1, tools, 512 MB files),
Azure OpenAI fine-tuning docs (OpenAI layout, UTF-8 with BOM, 512 MB, minimum 10),
Together data preparation (start with system or user, then alternate user/assistant; 100 GB),
Fireworks SFT docs (roles system/user/assistant, system first, 3 to 3,000,000 examples),
Mistral fine-tuning docs and mistral-common (alternation, last message assistant, weight,
9-character tool call ids, 512 MB), Vertex AI Gemini tuning (contents of user/model parts,
systemInstruction; 131,072 tokens per example), Amazon Bedrock / Anthropic cookbook for
Claude 3 Haiku (optional system, at least two messages, first user, alternate, last
assistant, no extra keys; 32,000 tokens per record), LLaMA-Factory ShareGPT and Alpaca
layouts, and TRL's dataset formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.diagnostics import Severity

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True)
class Target:
    """One ``--format`` target."""

    name: str
    schema: str  # schemas/<schema>.schema.json
    family: str  # openai | dpo | vertex | bedrock | sharegpt | alpaca | trl
    description: str
    roles: frozenset[str] = frozenset()  # roles this target accepts (OpenAI-style families)
    min_examples: int = 1
    max_examples: int | None = None
    max_file_bytes: int | None = None
    default_max_tokens: int | None = None  # per-example limit when no model is given
    default_max_tokens_note: str = ""
    weight: bool = True
    images: bool = True
    # ordering rules: severity, or None when the target does not require it
    system_first: Severity | None = W
    first_user: Severity | None = None
    alternate: Severity | None = None
    last_assistant: Severity | None = W
    tool_call_id_pattern: str | None = None
    bom: bool = False  # documented as UTF-8 *with* BOM
    aliases: tuple[str, ...] = field(default_factory=tuple)


_OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MB = 1024 * 1024

TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("openai", "openai", "openai", "OpenAI chat fine-tuning (SFT): messages, tools, weight",
               roles=_OPENAI_ROLES, min_examples=10, max_file_bytes=512 * MB, default_max_tokens=65_536,
               default_max_tokens_note="the largest per-example limit of any OpenAI model (pass --model for the exact one)"),
        Target("azure", "openai", "openai", "Azure OpenAI fine-tuning: the OpenAI layout, UTF-8 with BOM",
               roles=_OPENAI_ROLES, min_examples=10, max_file_bytes=512 * MB, default_max_tokens=65_536,
               default_max_tokens_note="the largest per-example limit of any Azure OpenAI model (pass --model for the exact one)",
               bom=True),
        Target("together", "openai", "openai", "Together AI conversational fine-tuning (OpenAI layout, strict alternation)",
               roles=frozenset({"system", "user", "assistant", "tool"}), max_file_bytes=100 * 1024 * MB,
               system_first=E, first_user=E, alternate=E),
        Target("fireworks", "openai", "openai", "Fireworks AI SFT (OpenAI layout; roles system/user/assistant, tools)",
               roles=frozenset({"system", "user", "assistant", "tool"}), min_examples=3, max_examples=3_000_000,
               system_first=E, first_user=W, alternate=W),
        Target("mistral", "mistral", "openai", "Mistral fine-tuning (instruct and function calling)",
               roles=frozenset({"system", "user", "assistant", "tool"}), max_file_bytes=512 * MB, images=False,
               system_first=W, first_user=E, alternate=E, last_assistant=E, tool_call_id_pattern=r"^[a-zA-Z0-9]{9}$"),
        Target("vertex", "vertex", "vertex", "Vertex AI Gemini supervised tuning: contents (user/model parts), systemInstruction",
               default_max_tokens=131_072, default_max_tokens_note="Vertex AI's per-example limit for Gemini tuning",
               weight=False, first_user=E, alternate=E, last_assistant=E),
        Target("bedrock", "bedrock", "bedrock", "Amazon Bedrock fine-tuning for Claude: system + messages",
               default_max_tokens=32_000, default_max_tokens_note="Bedrock's per-record limit for Claude 3 Haiku fine-tuning",
               weight=False, first_user=E, alternate=E, last_assistant=E),
        Target("sharegpt", "sharegpt", "sharegpt", "ShareGPT conversations (from/value), LLaMA-Factory and Axolotl style",
               first_user=E, alternate=E, last_assistant=E),
        Target("alpaca", "alpaca", "alpaca", "Alpaca instruction/input/output records", weight=False),
        Target("trl", "trl", "trl", "Hugging Face TRL: messages, text, prompt/completion or prompt/chosen/rejected",
               roles=frozenset({"system", "user", "assistant", "tool"}), weight=False),
        Target("openai-dpo", "openai-dpo", "dpo", "OpenAI direct preference optimization: input, preferred_output, non_preferred_output",
               roles=frozenset({"system", "developer", "user", "assistant", "tool"}), min_examples=10,
               max_file_bytes=512 * MB, default_max_tokens=65_536,
               default_max_tokens_note="the largest per-example limit of any OpenAI model (pass --model for the exact one)"),
    ]
}

TARGET_NAMES: tuple[str, ...] = tuple(TARGETS)


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise ValueError(f"unknown target {name!r}; choose one of: auto, {', '.join(TARGET_NAMES)}") from None
