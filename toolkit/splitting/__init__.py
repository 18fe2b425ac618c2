"""Splitting without leakage: grouping, near-duplicate clustering, stable stratified assignment.

* :func:`split` - the library API: records (list, ``datasets.Dataset``, polars
  ``DataFrame``) in, a :class:`SplitResult` (one split name per record) out.
* :class:`Splitter` - the streaming form used by ``ftkit split`` (``add`` then ``finish``).
* :mod:`toolkit.splitting.leakage` - overlap between existing split files (``ftkit leakage``
  and the D010-D012 lint rules).
"""

from toolkit.splitting.core import (
    DEFAULT_GROUP_BY,
    DEFAULT_NAMES,
    DEFAULT_RATIOS,
    GroupInfo,
    SplitError,
    SplitOptions,
    SplitResult,
    Splitter,
    split,
)
from toolkit.splitting.fields import key_string, parse_pointer, parse_time, resolve_field

__all__ = [
    "DEFAULT_GROUP_BY",
    "DEFAULT_NAMES",
    "DEFAULT_RATIOS",
    "GroupInfo",
    "SplitError",
    "SplitOptions",
    "SplitResult",
    "Splitter",
    "key_string",
    "parse_pointer",
    "parse_time",
    "resolve_field",
    "split",
]
