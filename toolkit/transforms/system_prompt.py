"""A system prompt for every example, from text or a file (the brand voice, the rules).

The prompt is attached to the conversation (``metadata["system_prompt"]``) so that
:class:`~toolkit.transforms.examples.ToExamples` emits it as the first message and counts
it in the token budget. ``mode="replace"`` (default) overrides a system prompt the source
already had (an OpenAI / ShareGPT input); ``mode="keep"`` only fills it in where missing;
``mode="remove"`` drops the source's system prompts.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.model import Conversation
from toolkit.transforms.base import ConvertReport, Step, evolve

SYSTEM_PROMPT_KEY = "system_prompt"


def load_prompt_file(path: str | Path) -> str:
    """Read a UTF-8 prompt file; errors name the file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{path}: system prompt file not found") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: system prompt file is not UTF-8 (byte {exc.start + 1})") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read system prompt file: {exc.strerror}") from None
    text = text.strip()
    if not text:
        raise ValueError(f"{path}: system prompt file is empty")
    return text


class SystemPrompt(Step):
    """Set the system prompt of every conversation (see the module doc)."""

    name = "system-prompt"

    def __init__(self, text: str | None = None, *, file: str | Path | None = None, mode: str = "replace"):
        if mode not in ("replace", "keep", "remove"):
            raise ValueError(f"system prompt mode must be replace, keep or remove, got {mode!r}")
        if text is not None and file is not None:
            raise ValueError("give the system prompt as text or as a file, not both")
        if file is not None:
            text = load_prompt_file(file)
        if mode != "remove" and (text is None or not text.strip()):
            raise ValueError("the system prompt is empty")
        self.text = text.strip() if text else None
        self.mode = mode

    def process(self, conversation: Conversation, report: ConvertReport) -> Conversation:
        metadata = dict(conversation.metadata)
        if self.mode == "remove":
            if metadata.pop(SYSTEM_PROMPT_KEY, None) is not None:
                report.adjust("system-prompt-removed")
        elif self.mode == "keep" and metadata.get(SYSTEM_PROMPT_KEY):
            return conversation
        else:
            if metadata.get(SYSTEM_PROMPT_KEY) not in (None, self.text):
                report.adjust("system-prompt-replaced")
            metadata[SYSTEM_PROMPT_KEY] = self.text
        return evolve(conversation, metadata=metadata)
