"""Knowledge-injection detection: find the facts a fine-tuning example teaches.

Public API (used by the K lint rules, ``ftkit route``, stats and the HF pipelines):

* :func:`analyze` ``(record, options=None) -> KnowledgeResult(score, label, spans, turns)``
* :class:`KnowledgeOptions` (threshold, error threshold, every turn, allow-list)
* :class:`KnowledgeSpan` (start, end, text, kind, value, score, reason, pointer, grounded)
* :mod:`toolkit.knowledge.kb` (knowledge-base index: overlap and unverifiable specifics)
* :mod:`toolkit.knowledge.route` (behavior / knowledge / KB-candidate routing)
"""

from toolkit.knowledge.analyze import (
    DEFAULT_ERROR_THRESHOLD,
    DEFAULT_THRESHOLD,
    Context,
    KnowledgeOptions,
    KnowledgeResult,
    TurnResult,
    analyze,
    analyze_turn,
)
from toolkit.knowledge.extract import KIND_RULE, KnowledgeSpan, extract_spans

Span = KnowledgeSpan

# How `ftkit route` judges an example by default: every assistant turn a trainer learns from
# (weight != 0). Summaries that quote "how much of the dataset teaches facts" use the same
# setting, so the report, the pipelines and `ftkit route` agree on the same file.
ROUTING_OPTIONS = KnowledgeOptions(trainable_turns=True)

__all__ = [
    "DEFAULT_ERROR_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "KIND_RULE",
    "ROUTING_OPTIONS",
    "Context",
    "KnowledgeOptions",
    "KnowledgeResult",
    "KnowledgeSpan",
    "Span",
    "TurnResult",
    "analyze",
    "analyze_turn",
    "extract_spans",
]
