"""Every target schema is valid draft 2020-12, accepts each of its valid fixtures and rejects each invalid one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conftest import FIXTURES, SCHEMAS

TARGET_SCHEMAS = ["openai", "openai-dpo", "mistral", "vertex", "bedrock", "sharegpt", "alpaca", "trl"]


def _cases(kind: str) -> list:
    cases = []
    for target in TARGET_SCHEMAS:
        for path in sorted((FIXTURES / "schemas" / target / kind).glob("*.json")):
            cases.append(pytest.param(target, path, id=f"{target}/{kind}/{path.stem}"))
    return cases


def _validator(target: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{target}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("target", TARGET_SCHEMAS)
def test_schema_is_valid_draft_2020_12_with_fixtures(target):
    schema = json.loads((SCHEMAS / f"{target}.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    # every schema is proven by at least two valid and two invalid examples
    assert len(list((FIXTURES / "schemas" / target / "valid").glob("*.json"))) >= 2
    assert len(list((FIXTURES / "schemas" / target / "invalid").glob("*.json"))) >= 3


@pytest.mark.parametrize("target,path", _cases("valid"))
def test_valid_fixture_is_accepted(target: str, path: Path):
    errors = [e.message for e in _validator(target).iter_errors(json.loads(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize("target,path", _cases("invalid"))
def test_invalid_fixture_is_rejected(target: str, path: Path):
    assert not _validator(target).is_valid(json.loads(path.read_text()))


def test_every_schema_has_a_packaged_copy():
    """The package reads schemas through toolkit/schemas (a link to the project's schemas/)."""
    from toolkit.config import load_schema

    for target in TARGET_SCHEMAS:
        assert load_schema(target)["title"] == target
