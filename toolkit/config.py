"""Find and load ftkit's configuration: ``[tool.ftkit]`` in ``pyproject.toml`` or ``ftkit.toml``.

Lookup walks up from the starting directory; the first ``ftkit.toml`` or ``pyproject.toml``
that has a ``[tool.ftkit]`` table wins (``ftkit.toml`` before ``pyproject.toml`` in the same
folder, as ruff does with ``ruff.toml``). ``ftkit.toml`` holds the same keys at top level.
The loaded table is validated against ``schemas/config.schema.json``; problems raise
:class:`ConfigError` naming the file and the key.

Sections: top-level keys (``target``, ``model``, ``encoding``) apply everywhere;
``[tool.ftkit.lint]``, ``[tool.ftkit.convert]``, ``[tool.ftkit.split]``, ``[tool.ftkit.route]``,
``[tool.ftkit.report]`` hold each command's options. Command-line options override the file.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class ConfigError(ValueError):
    """The configuration file is unreadable or breaks the config schema."""


@dataclass
class LoadedConfig:
    """A configuration table and the file it came from (``None`` when defaults are used)."""

    data: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        return value if isinstance(value, dict) else {}

    @property
    def root(self) -> Path:
        """The folder relative to which configured paths and globs are resolved."""
        return self.path.parent if self.path else Path.cwd()


def schemas_dir() -> Path:
    """The JSON Schema folder (``schemas/`` at the project root, linked into the package)."""
    packaged = Path(__file__).resolve().parent / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """Load ``schemas/<name>`` (``.schema.json`` appended when missing)."""
    file_name = name if name.endswith(".json") else f"{name}.schema.json"
    path = schemas_dir() / file_name
    with open(path, "rb") as fh:
        return json.load(fh)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _table_of(path: Path) -> dict[str, Any] | None:
    document = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = document.get("tool", {})
        table = tool.get("ftkit") if isinstance(tool, dict) else None
        return table if isinstance(table, dict) else None
    return document


def find_config_file(start: str | Path | None = None) -> Path | None:
    """The nearest ``ftkit.toml`` or ``pyproject.toml`` with ``[tool.ftkit]``, walking up."""
    here = Path(start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        for candidate in (folder / "ftkit.toml", folder / ".ftkit.toml", folder / "pyproject.toml"):
            if candidate.is_file() and _table_of(candidate) is not None:
                return candidate
    return None


def validate_config(data: dict[str, Any], path: Path | str | None = None) -> None:
    """Check a config table against ``schemas/config.schema.json``; raise on the first problem set."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema("config"))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = str(path) if path else "configuration"
        lines = []
        for error in errors:
            key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            lines.append(f"{where}: {key}: {error.message}")
        raise ConfigError("\n".join(lines))


def load_config(path: str | Path | None = None, *, start: str | Path | None = None, validate: bool = True) -> LoadedConfig:
    """Load the configuration from ``path``, or discover it from ``start`` (default: cwd)."""
    config_path = Path(path) if path else find_config_file(start)
    if config_path is None:
        return LoadedConfig()
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: no such configuration file")
    table = _table_of(config_path)
    if table is None:
        raise ConfigError(f"{config_path}: has no [tool.ftkit] table")
    if validate:
        validate_config(table, config_path)
    return LoadedConfig(data=table, path=config_path)
