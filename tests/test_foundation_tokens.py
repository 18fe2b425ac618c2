"""Offline tokens: ftkit's bundled encodings equal tiktoken's own (loaded through tiktoken's normal loader from a
pre-populated cache, with the network blocked), chat counts follow the documented overhead, models map to encodings."""

from __future__ import annotations

import gzip
import hashlib
import socket
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.tokens import count_example, encoding_for_model, encoding_source, get_encoding, max_example_tokens
from toolkit.tokens import encodings as enc_module
from toolkit.tokens.counting import TOKENS_PER_MESSAGE, TOKENS_PER_NAME, TOKENS_PER_REPLY

SAMPLES = [
    "",
    "Hello, how can I help you today?",
    "Your order #A-1234 ships on 2024-05-01; refund of $19.99 to card ending 4242.",
    "Ça coûte 12,50 € — merci! 日本語のテキストも。 🙂👍🏽",
    "def f(x):\n    return x ** 2  # comment\n\n\n",
    "   leading and trailing spaces   \t\n",
    "<|endoftext|> and <|im_start|> are plain text here",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
]


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkBlocked("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def tiktoken_cache(tmp_path_factory):
    """A tiktoken cache dir holding the bundled rank files under tiktoken's own names (sha1 of the URL)."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for spec in enc_module.SPECS.values():
        data = gzip.decompress(resources.files("toolkit.tokens").joinpath("data", spec.bundled_file).read_bytes())
        assert hashlib.sha256(data).hexdigest() == spec.sha256
        (cache / hashlib.sha1(spec.url.encode()).hexdigest()).write_bytes(data)
    return cache


def _block_network(mp: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise NetworkBlocked("network access attempted in an offline test")

    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket, "create_connection", refuse)
    mp.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def reference(tiktoken_cache):
    """tiktoken's own Encoding objects, built by tiktoken.get_encoding from the cache with the network blocked."""
    import tiktoken
    import tiktoken.registry

    with pytest.MonkeyPatch.context() as mp:
        _block_network(mp)
        mp.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
        mp.setattr(tiktoken.registry, "ENCODINGS", {})  # force a fresh load through the normal loader
        return {name: tiktoken.get_encoding(name) for name in ("o200k_base", "cl100k_base")}


def test_reference_urls_and_hashes_are_tiktokens_own(reference):
    import inspect

    from tiktoken_ext import openai_public

    source = inspect.getsource(openai_public)
    for name, spec in enc_module.SPECS.items():
        assert spec.url in source and spec.sha256 in source, name
        assert reference[name]._pat_str == spec.pattern, name
        assert reference[name]._special_tokens == spec.special_tokens, name


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_counts_equal_tiktoken(reference, name, no_network):
    ours = get_encoding(name)
    theirs = reference[name]
    assert ours.n_vocab == theirs.n_vocab
    for text in SAMPLES:
        assert ours.encode_ordinary(text) == theirs.encode_ordinary(text), text
        assert ours.encode(text, disallowed_special=()) == theirs.encode(text, disallowed_special=()), text


@given(text=st.text(max_size=200))
@settings(max_examples=150, deadline=None)
def test_counts_equal_tiktoken_for_any_text(reference, text):
    for name in ("o200k_base", "cl100k_base"):
        assert get_encoding(name).encode_ordinary(text) == reference[name].encode_ordinary(text)


def test_chat_count_is_content_plus_documented_overhead(reference, no_network):
    enc = reference["o200k_base"]
    messages = [
        {"role": "system", "content": SAMPLES[1]},
        {"role": "user", "content": SAMPLES[2], "name": "customer"},
        {"role": "assistant", "content": SAMPLES[3]},
        {"role": "user", "content": SAMPLES[4]},
        {"role": "assistant", "content": SAMPLES[5], "weight": 0},
    ]
    count = count_example({"messages": messages}, "o200k_base")
    per_message = [TOKENS_PER_MESSAGE + len(enc.encode_ordinary(m["content"])) + (TOKENS_PER_NAME if "name" in m else 0)
                   for m in messages]
    assert count.per_message == per_message
    assert count.total == sum(per_message) + TOKENS_PER_REPLY
    assert count.trainable == per_message[2]  # weight 0 is not trained on
    assert count.prompt == count.total - count.trainable
    assert count.encoding == "o200k_base" and count.to_dict()["estimate"] is True


@pytest.mark.parametrize("model,encoding,limit", [
    ("gpt-4o", "o200k_base", 65_536),
    ("gpt-4o-mini-2024-07-18", "o200k_base", 65_536),
    ("gpt-4.1-nano", "o200k_base", 65_536),
    ("o3-mini", "o200k_base", 65_536),
    ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base", 65_536),
    ("gpt-4", "cl100k_base", 8_192),
    ("gpt-4-0613", "cl100k_base", 8_192),
    ("gpt-3.5-turbo-0125", "cl100k_base", 16_385),
    ("gpt-3.5-turbo-0613", "cl100k_base", 4_096),
    ("mistral-small-latest", "o200k_base", None),
])
def test_model_map(model, encoding, limit):
    assert encoding_for_model(model) == encoding
    assert max_example_tokens(model) == limit


def test_bundled_files_are_used_without_a_cache(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(enc_module, "_CACHE", {})
    assert encoding_source("o200k_base") == "bundled o200k_base.tiktoken.gz"
    assert get_encoding("o200k_base").encode_ordinary("hello world") == [24912, 2375]


def test_respects_tiktoken_cache_dir_and_ignores_a_corrupt_entry(tiktoken_cache, tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
    monkeypatch.setattr(enc_module, "_CACHE", {})
    assert encoding_source("cl100k_base").startswith(f"tiktoken cache {tiktoken_cache}")
    assert get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    spec = enc_module.SPECS["cl100k_base"]
    (corrupt / hashlib.sha1(spec.url.encode()).hexdigest()).write_bytes(b"not the rank file")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(corrupt))
    monkeypatch.setattr(enc_module, "_CACHE", {})
    assert encoding_source("cl100k_base") == "bundled cl100k_base.tiktoken.gz"
    assert get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]


def test_unknown_encoding_names_the_choices():
    with pytest.raises(enc_module.EncodingError, match="available offline: cl100k_base, o200k_base"):
        get_encoding("p50k_base")
