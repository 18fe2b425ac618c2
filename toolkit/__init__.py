"""ftkit: turn support transcripts into chat fine-tuning datasets that teach behavior.

The library API mirrors the command line; every function streams (iterables in, iterables
out) and accepts plain lists, generators or a ``datasets.Dataset``:

* :func:`read_jsonl` - stream a JSONL file with line numbers and per-line errors.
* :func:`validate` - check records against a target format; yields problems.
* :func:`read` / :func:`convert` - helpdesk exports to canonical conversations to examples.
* :func:`lint` - diagnostics from the lint rules.
* :func:`split` - leak-free, stable train/validation/test assignment.

Submodules are imported lazily, so ``import toolkit`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from toolkit.model import Conversation, Example, Message, Participant, Speaker, ToolCall, Turn  # noqa: E402

_LAZY = {
    "read_jsonl": "toolkit.io.jsonl",
    "write_jsonl": "toolkit.io.jsonl",
    "validate": "toolkit.validation",
    "read": "toolkit.readers",
    "convert": "toolkit.conversion",
    "lint": "toolkit.linter",
    "split": "toolkit.splitting",
    "count_example": "toolkit.tokens",
    "get_encoding": "toolkit.tokens",
}

__all__ = [
    "Conversation",
    "Example",
    "Message",
    "Participant",
    "Speaker",
    "ToolCall",
    "Turn",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
