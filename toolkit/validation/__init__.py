"""Validate fine-tuning datasets against a target's schema, structure rules and token limits.

* :func:`validate` - records (list, generator, ``JsonlLine`` stream, ``datasets.Dataset``) -> diagnostics.
* :func:`validate_file` - one file, streamed and checked in parallel; ``.report`` afterwards.
* :func:`detect_target` - guess a record's format (``--format auto``).
* :data:`TARGETS` - what each target accepts; :data:`CHECKS` - the documented J/S/T codes.
"""

from toolkit.validation.checker import RecordChecker
from toolkit.validation.codes import CHECKS, Check, check_doc
from toolkit.validation.detect import detect_target
from toolkit.validation.runner import FileValidation, Report, TokenTotals, Validation, validate, validate_file
from toolkit.validation.targets import TARGET_NAMES, TARGETS, Target, get_target

__all__ = [
    "CHECKS",
    "Check",
    "FileValidation",
    "RecordChecker",
    "Report",
    "TARGETS",
    "TARGET_NAMES",
    "Target",
    "TokenTotals",
    "Validation",
    "check_doc",
    "detect_target",
    "get_target",
    "validate",
    "validate_file",
]
