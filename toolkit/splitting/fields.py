"""Reading a field of a record for grouping, stratifying and time-based splits.

A field is named in one of three ways:

* an RFC 6901 JSON pointer: ``/metadata/customer_id``, ``/labels/0``;
* a dotted path from the record's root: ``metadata.customer_id``;
* a bare name: looked up in ``metadata`` first (where ftkit's converters put provenance:
  ``conversation_id``, ``customer_id``, ``channel``, ``language``, ``created_at``), then
  at the record's top level (flat tables: Alpaca, CSV, Parquet rows).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

import orjson

MISSING: Any = object()


def parse_pointer(pointer: str) -> list[str]:
    """Split an RFC 6901 pointer into unescaped tokens (``~1`` is ``/``, ``~0`` is ``~``)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must start with '/'")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _walk(value: Any, tokens: list[str]) -> Any:
    for token in tokens:
        if isinstance(value, Mapping):
            if token not in value:
                return MISSING
            value = value[token]
        elif isinstance(value, list):
            if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
                return MISSING
            index = int(token)
            if index >= len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value


def field_pointer(spec: str) -> str:
    """How ``spec`` is looked up, as text for messages (``/metadata/x`` or ``metadata.x or x``)."""
    if spec.startswith("/"):
        return spec
    if "." in spec:
        return "/" + "/".join(spec.split("."))
    return f"/metadata/{spec}"


def resolve_field(record: Mapping[str, Any], spec: str) -> Any:
    """The value of field ``spec`` in ``record``, or :data:`MISSING`."""
    if spec.startswith("/"):
        return _walk(record, parse_pointer(spec))
    if "." in spec:
        found = _walk(record, spec.split("."))
        if found is not MISSING:
            return found
    meta = record.get("metadata")
    if isinstance(meta, Mapping) and spec in meta:
        return meta[spec]
    return record.get(spec, MISSING)


def key_string(value: Any) -> str | None:
    """A field value as a grouping / stratum key: ``None`` for missing, null or empty.

    Numbers and strings become their text (``7`` and ``"7"`` are the same group); lists
    and objects their canonical JSON.
    """
    if value is MISSING or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, dict)):
        if not value:
            return None
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return str(value)


def parse_time(value: Any) -> float:
    """A timestamp as seconds since the epoch (UTC).

    Accepts ISO 8601 dates and date-times (``2025-06-01``, ``2025-06-01T09:30:00Z``,
    with or without an offset; no offset means UTC) and Unix epoch numbers (seconds, or
    milliseconds when larger than 10**11). Raises ``ValueError`` for anything else.
    """
    if isinstance(value, bool) or value is None or value is MISSING:
        raise ValueError("no timestamp")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("NaN is not a timestamp")
        seconds = float(value)
        return seconds / 1000.0 if abs(seconds) > 1e11 else seconds
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a timestamp")
    text = value.strip()
    if not text:
        raise ValueError("empty timestamp")
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return parse_time(number)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            day = _dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date or date-time") from None
        moment = _dt.datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()
