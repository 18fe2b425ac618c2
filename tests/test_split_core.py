"""The splitting library: grouping, stratification, stability, time splits, inputs of every kind."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import split
from toolkit.splitting import SplitError, SplitOptions, Splitter, parse_pointer, parse_time, resolve_field
from toolkit.splitting.fields import MISSING, key_string

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _split_fixtures import planted_records  # noqa: E402


def _components_ok(records, result, fields=("conversation_id", "customer_id")):
    """No value of a group field is in two splits."""
    for spec in fields:
        seen: dict[str, str] = {}
        for record, name in zip(records, result.assignment):
            value = record["metadata"].get(spec)
            if value is None or name is None:
                continue
            assert seen.setdefault(value, name) == name, f"{spec}={value} in {seen[value]} and {name}"


def test_planted_leaks_stay_on_one_side():
    records = planted_records()
    result = split(records)
    assert len(result.assignment) == len(records)
    _components_ok(records, result)
    # Templates (near-duplicates under different ids) land together.
    template_splits = {name for r, name in zip(records, result.assignment) if r["metadata"]["customer_id"].startswith("tmpl")}
    assert len(template_splits) == 1
    # Exact copies under other ids land with their original.
    by_id = {r["metadata"]["id"]: name for r, name in zip(records, result.assignment)}
    for r, name in zip(records, result.assignment):
        if r["metadata"]["id"].startswith("dup-"):
            original = next(x for x in records if x["messages"] == r["messages"] and not x["metadata"]["id"].startswith("dup-"))
            assert by_id[original["metadata"]["id"]] == name
    assert result.stats["groups_joined_by_near_duplicates"] > 0


def test_group_by_conversation_only_lets_a_customer_span_splits():
    records = planted_records()
    result = split(records, group_by="conversation_id", near_duplicates=False)
    _components_ok(records, result, ("conversation_id",))
    customers: dict[str, set[str]] = {}
    for r, name in zip(records, result.assignment):
        customers.setdefault(r["metadata"]["customer_id"], set()).add(name)
    assert any(len(v) > 1 for v in customers.values())


def _strata_records(n_groups: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for g in range(n_groups):
        size = rng.choice([1, 1, 2, 3, 5])
        stratum = rng.choice(["a", "a", "a", "b", "b", "c"])
        for k in range(size):
            records.append({"messages": [{"role": "user", "content": f"q {g} {k} {rng.random()}"},
                                         {"role": "assistant", "content": f"a {g} {k} {rng.random()}"}],
                            "metadata": {"conversation_id": f"g{g}", "intent": stratum}})
    return records


@pytest.mark.parametrize("ratios", [(0.8, 0.1, 0.1), (0.7, 0.3), (0.5, 0.25, 0.25), (0.9, 0.05, 0.05)])
@pytest.mark.parametrize("seed", [0, 7])
def test_stratified_proportions_within_one_group(ratios, seed):
    records = _strata_records(600, seed)
    names = ["train", "validation", "test"][: len(ratios)] if len(ratios) == 3 else ["train", "test"]
    result = split(records, ratios, names=names, stratify_by="intent", seed=seed, near_duplicates=False)
    largest = result.stats["largest_group"]
    assert largest == 5
    strata = result.stats["strata"]
    for j, name in enumerate(names):
        for stratum, total in strata.items():
            got = result.stats["splits"][name]["strata"][stratum]["examples"]
            assert abs(got - ratios[j] * total) <= largest, (name, stratum, got, ratios[j] * total)
        assert abs(result.stats["splits"][name]["examples"] - ratios[j] * len(records)) <= largest * len(strata)


def test_hash_assignment_is_a_function_of_key_and_seed():
    records = _strata_records(300, 3)
    a = split(records, assignment="hash", seed=11, near_duplicates=False)
    shuffled = list(records)
    random.Random(2).shuffle(shuffled)
    b = split(shuffled + _strata_records(50, 99)[:0], assignment="hash", seed=11, near_duplicates=False)
    where_a = {r["metadata"]["conversation_id"]: s for r, s in zip(records, a.assignment)}
    where_b = {r["metadata"]["conversation_id"]: s for r, s in zip(shuffled, b.assignment)}
    assert where_a == where_b
    c = split(records, assignment="hash", seed=12, near_duplicates=False)
    assert c.assignment != a.assignment


def test_appending_twenty_percent_keeps_every_original_assignment():
    base = planted_records(240, seed=5)
    more = planted_records(48, seed=6, start=10_000)
    assert 0.15 <= len(more) / len(base) <= 0.3
    for kwargs in ({}, {"stratify_by": "intent"}, {"assignment": "hash"}):
        first = split(base, **kwargs)
        second = split(base + more, **kwargs)
        assert second.assignment[: len(base)] == first.assignment, kwargs


record_strategy = st.builds(
    lambda conv, text, stratum: (conv, text, stratum),
    st.integers(0, 40),
    st.text(alphabet="abcdefgh ", min_size=0, max_size=40),
    st.sampled_from(["x", "y", "z"]),
)


def _to_records(rows, prefix: str) -> list[dict]:
    return [{"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": f"{prefix}{i}"}],
             "metadata": {"conversation_id": f"{prefix}{conv}", "intent": stratum}}
            for i, (conv, text, stratum) in enumerate(rows)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record_strategy, min_size=1, max_size=60), st.lists(record_strategy, min_size=0, max_size=20),
       st.integers(0, 3), st.booleans(), st.sampled_from(["balanced", "hash"]))
def test_property_superset_keeps_assignments(base_rows, extra_rows, seed, stratify, assignment):
    base = _to_records(base_rows, "old-")
    # New data: new conversations, and more examples of old conversations (appended).
    extra = _to_records(extra_rows, "new-")
    for k, record in enumerate(extra):
        if k % 3 == 0:
            record["metadata"]["conversation_id"] = base[k % len(base)]["metadata"]["conversation_id"]
    kwargs = {"seed": seed, "stratify_by": "intent" if stratify else None, "assignment": assignment, "near_duplicates": False}
    first = split(base, **kwargs)
    second = split(base + extra, **kwargs)
    assert second.assignment[: len(base)] == first.assignment


def test_deterministic_and_seed_dependent():
    records = planted_records()
    a, b = split(records, seed=1), split(records, seed=1)
    assert a.assignment == b.assignment and a.stats == b.stats
    assert split(records, seed=2).assignment != a.assignment


def test_counts_and_rest():
    records = _strata_records(200, 1)
    result = split(records, counts=[None, 40, 40], near_duplicates=False)
    counts = result.counts()
    assert sum(counts.values()) == len(records)
    assert abs(counts["validation"] - 40) <= 5 and abs(counts["test"] - 40) <= 5
    with pytest.raises(SplitError, match="ask for"):
        split(records, counts=[None, 10_000, 1])
    with pytest.raises(SplitError, match="use 'rest'"):
        split(records, counts=[1, 1, 1])


def test_max_examples_per_group_drops_and_counts():
    records = _strata_records(100, 4)
    result = split(records, max_examples_per_group=2, near_duplicates=False)
    dropped = sum(1 for s in result.assignment if s is None)
    expected = sum(max(0, g.size + g.dropped - 2) for g in result.groups)
    assert dropped == expected == result.stats["dropped_by_cap"] > 0
    assert all(g.size <= 2 for g in result.groups)
    assert any("dropped" in w for w in result.warnings)


def test_time_split_puts_the_future_in_test():
    records = planted_records(120)
    result = split(records, by_time="created_at", cutoffs=["2025-03-01", "2025-04-01"])
    assert result.options.names == ("train", "validation", "test")
    for record, name in zip(records, result.assignment):
        t = parse_time(record["metadata"]["created_at"])
        # A group goes by its earliest example: later ones never precede its split's period.
        if name == "train":
            continue
        assert t >= parse_time("2025-03-01")
    _components_ok(records, result)
    bad = records + [{"messages": [{"role": "user", "content": "x"}], "metadata": {"created_at": "last tuesday"}}]
    with pytest.raises(SplitError, match=r"<records>:\d+: field /metadata/created_at is not a time"):
        split(bad, by_time="created_at", cutoffs="2025-03-01")
    with pytest.raises(SplitError, match="strictly increasing"):
        split(records, by_time="created_at", cutoffs=["2025-05-01", "2025-03-01"])


def test_missing_group_field_falls_back_with_a_warning():
    records = [{"messages": [{"role": "user", "content": f"question number {i} about w{i}"}]} for i in range(20)]
    result = split(records)
    assert result.stats["examples_without_group_field"] == 20
    assert any("no group field" in w and "<records>:1" in w for w in result.warnings)
    assert len(result.groups) == 20


def test_group_by_pointer_and_dotted_path():
    records = [{"messages": [{"role": "user", "content": f"text {i} w{i * 7}"}], "ticket": {"ids": [f"t{i // 3}"]}} for i in range(30)]
    a = split(records, group_by="/ticket/ids/0", near_duplicates=False)
    b = split(records, group_by="ticket.ids.0", near_duplicates=False)
    assert a.assignment == b.assignment
    assert len(a.groups) == 10
    for g in range(10):
        assert len({a.assignment[i] for i in range(g * 3, g * 3 + 3)}) == 1


def test_field_helpers():
    record = {"metadata": {"customer_id": 7, "a/b": {"~x": 1}}, "top": "v", "list": [1, 2]}
    assert resolve_field(record, "customer_id") == 7
    assert resolve_field(record, "top") == "v"
    assert resolve_field(record, "/metadata/a~1b/~0x") == 1
    assert resolve_field(record, "/list/1") == 2
    assert resolve_field(record, "/list/01") is MISSING
    assert resolve_field(record, "nope") is MISSING
    assert parse_pointer("/a~1b/~0c") == ["a/b", "~c"]
    assert key_string(7) == key_string("7") == key_string(7.0) == "7"
    assert key_string("  ") is None and key_string(None) is None and key_string([]) is None
    assert parse_time("2025-01-01") == parse_time("2025-01-01T00:00:00Z") == parse_time(1735689600) == parse_time(1735689600000)
    with pytest.raises(ValueError):
        parse_time("soon")


def test_option_errors_are_clear():
    for kwargs, message in [
        ({"ratios": (0.5, 0.6, 0.1)}, "add up to 1"),
        ({"ratios": (0.5, 0.5)}, "2 ratios for 3 splits"),
        ({"names": ("a", "a", "b")}, "distinct"),
        ({"threshold": 0.0}, "threshold"),
        ({"by_time": "created_at"}, "needs --cutoff"),
    ]:
        with pytest.raises(SplitError, match=message):
            SplitOptions(**kwargs).check()
    assert SplitOptions(ratios=(80, 10, 10)).check().ratios == (0.8, 0.1, 0.1)


def test_library_accepts_datasets_and_polars():
    import datasets
    import polars as pl

    records = planted_records(60)
    expected = split(records).assignment
    assert split(datasets.Dataset.from_list(records)).assignment == expected
    assert split(pl.DataFrame(records)).assignment == expected
    assert split(iter(records)).assignment == expected
    from toolkit.model import Example

    assert split([Example.from_dict(r) for r in records]).assignment == expected


def test_splitter_streaming_api_and_token_estimates():
    splitter = Splitter(SplitOptions(encoding="o200k_base"))
    for i, record in enumerate(planted_records(40), start=1):
        splitter.add(record, "data.jsonl", i)
    result = splitter.finish()
    tokens = [result.stats["splits"][n]["tokens"] for n in result.options.names]
    assert all(t["encoding"] == "o200k_base" and t["estimate"] is True for t in tokens)
    assert sum(t["total"] for t in tokens) > 1000
    assert splitter.where[0] == ("data.jsonl", 1)


@pytest.mark.parametrize("seed", [6, 9, 21])
def test_appending_keeps_assignments_even_when_old_groups_grow(seed):
    """New data that continues old conversations (returning customers) must not move anything."""
    rng = random.Random(seed)

    def make(n_groups: int, start: int, old: list[str] | None = None) -> list[dict]:
        rows = []
        for g in range(start, start + n_groups):
            size = rng.choice([1, 2, 3, 5, 60, 120]) if rng.random() < 0.1 else rng.choice([1, 2, 3])
            conv = f"g{g}" if not old or rng.random() < 0.7 else rng.choice(old)
            stratum = rng.choice("ab")
            rows += [{"messages": [{"role": "user", "content": f"t{g} {k} {rng.random()}"}],
                      "metadata": {"conversation_id": conv, "s": stratum}} for k in range(size)]
        return rows

    base = make(200, 0)
    extra = make(40, 10**6, sorted({r["metadata"]["conversation_id"] for r in base}))
    for stratify in (None, "s"):
        first = split(base, stratify_by=stratify, near_duplicates=False, seed=seed)
        second = split(base + extra, stratify_by=stratify, near_duplicates=False, seed=seed)
        assert second.assignment[: len(base)] == first.assignment
