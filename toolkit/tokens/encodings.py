"""Offline tiktoken encodings, verified against the sha256 tiktoken itself expects.

tiktoken downloads its BPE files on first use; ftkit never touches the network. The
``o200k_base`` and ``cl100k_base`` rank files ship gzipped inside the package (taken from
the MIT-licensed ``bpe-openai`` distribution) and are checked against the hashes pinned in
``tiktoken_ext/openai_public.py`` before use. If the user already has tiktoken's cache
(``TIKTOKEN_CACHE_DIR``, ``DATA_GYM_CACHE_DIR`` or the default temp-dir cache) holding a
verified file, that copy is used instead.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import tiktoken

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


@dataclass(frozen=True)
class EncodingSpec:
    """Everything needed to build a tiktoken ``Encoding`` without the network."""

    name: str
    url: str  # the URL tiktoken downloads from; its sha1 names the cache file
    sha256: str  # the hash tiktoken_ext/openai_public.py pins
    pattern: str
    special_tokens: dict[str, int]
    bundled_file: str


SPECS: dict[str, EncodingSpec] = {
    "o200k_base": EncodingSpec(
        name="o200k_base",
        url="https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pattern=_O200K_PATTERN,
        special_tokens={ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
        bundled_file="o200k_base.tiktoken.gz",
    ),
    "cl100k_base": EncodingSpec(
        name="cl100k_base",
        url="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pattern=_CL100K_PATTERN,
        special_tokens={
            ENDOFTEXT: 100257,
            FIM_PREFIX: 100258,
            FIM_MIDDLE: 100259,
            FIM_SUFFIX: 100260,
            ENDOFPROMPT: 100276,
        },
        bundled_file="cl100k_base.tiktoken.gz",
    ),
}

_CACHE: dict[str, tiktoken.Encoding] = {}
_LOCK = threading.Lock()


class EncodingError(RuntimeError):
    """An encoding is unknown, or its rank file failed verification."""


def available_encodings() -> list[str]:
    return sorted(SPECS)


def _tiktoken_cache_dir() -> Path | None:
    """Where tiktoken itself would cache the file (same rules as ``tiktoken.load``)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        value = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        value = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        value = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return Path(value) if value else None  # an empty value disables tiktoken's cache


def _from_tiktoken_cache(spec: EncodingSpec) -> tuple[bytes, str] | None:
    cache_dir = _tiktoken_cache_dir()
    if cache_dir is None:
        return None
    path = cache_dir / hashlib.sha1(spec.url.encode()).hexdigest()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != spec.sha256:
        return None  # a corrupt or stale cache entry: fall back to the bundled copy
    return data, f"tiktoken cache {path}"


def _from_package(spec: EncodingSpec) -> tuple[bytes, str]:
    resource = resources.files("toolkit.tokens").joinpath("data", spec.bundled_file)
    data = gzip.decompress(resource.read_bytes())
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise EncodingError(
            f"bundled {spec.name} rank file failed verification: sha256 {digest}, expected {spec.sha256}; "
            "reinstall ftkit"
        )
    return data, f"bundled {spec.bundled_file}"


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def encoding_source(name: str) -> str:
    """Where the verified rank file of ``name`` is loaded from (for messages and docs)."""
    spec = _spec(name)
    cached = _from_tiktoken_cache(spec)
    return cached[1] if cached else f"bundled {spec.bundled_file}"


def _spec(name: str) -> EncodingSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise EncodingError(f"unknown encoding {name!r}; available offline: {', '.join(available_encodings())}") from None


def get_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    """Return a verified tiktoken ``Encoding``, built offline and cached for the process."""
    encoding = _CACHE.get(name)
    if encoding is not None:
        return encoding
    with _LOCK:
        encoding = _CACHE.get(name)
        if encoding is None:
            spec = _spec(name)
            data, _ = _from_tiktoken_cache(spec) or _from_package(spec)
            encoding = tiktoken.Encoding(
                name=spec.name,
                pat_str=spec.pattern,
                mergeable_ranks=_parse_ranks(data),
                special_tokens=dict(spec.special_tokens),
            )
            _CACHE[name] = encoding
    return encoding
