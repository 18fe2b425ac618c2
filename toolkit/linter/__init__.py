"""The dataset linter: rules (``toolkit.linter.rules``), engine, configuration, reporters.

Library use::

    import toolkit
    for d in toolkit.lint(records, select=["P", "D"]):
        print(d.file, d.line, d.code, d.message)

``records`` may be a list or generator of dicts, a ``datasets.Dataset``, ``JsonlLine``
objects from :func:`toolkit.io.jsonl.read_jsonl`, or a path to a JSONL file. Each
diagnostic is a :class:`toolkit.diagnostics.Diagnostic` whose ``to_dict()`` is exactly an
object of ``ftkit lint --output-format json``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from toolkit.diagnostics import Diagnostic

__all__ = ["lint", "lint_files", "load_settings"]


def load_settings(config: Any = None, **overrides: Any):
    """Lint settings from ``config`` plus command-line-style overrides.

    ``config`` may be ``None`` or ``False`` (no file: the defaults), ``"auto"`` (discover
    ``ftkit.toml`` / ``pyproject.toml`` from the cwd, as the CLI does), a path to a config
    file, a ``LoadedConfig``, a
    ``LintSettings`` (returned as is when there are no overrides), or a dict holding the
    ``[tool.ftkit]`` table (``{"lint": {...}, "model": ...}``) or just the lint keys.
    """
    from toolkit.config import LoadedConfig, load_config
    from toolkit.linter.settings import LintSettings, build_settings

    if isinstance(config, LintSettings) and not any(v is not None for v in overrides.values()):
        return config
    if config is None or config is False:
        loaded = LoadedConfig()
    elif config == "auto":
        loaded = load_config()
    elif isinstance(config, LoadedConfig):
        loaded = config
    elif isinstance(config, (str, os.PathLike)):
        loaded = load_config(config)
    elif isinstance(config, Mapping):
        from toolkit.config import validate_config

        table = dict(config)
        if "lint" in table or any(k in table for k in ("target", "model", "encoding")):
            validate_config(table)
        loaded = LoadedConfig(data=table)
    else:
        raise TypeError(f"config must be a path, a dict, LoadedConfig or LintSettings, not {type(config).__name__}")
    return build_settings(loaded.data, config_path=loaded.path, **overrides)


def lint(
    records: Iterable[Any] | str | os.PathLike[str],
    config: Any = None,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
    extend_ignore: Sequence[str] | None = None,
    severity: Mapping[str, str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    file: str | None = None,
    baseline: str | os.PathLike[str] | None = None,
    target: str | None = None,
    model: str | None = None,
    kb: str | os.PathLike[str] | None = None,
    behavior: Mapping[str, Any] | None = None,
    jobs: int | None = 1,
) -> Iterator[Diagnostic]:
    """Lint records and yield diagnostics sorted by file, line and code.

    ``config`` defaults to ``None``: no config file (library calls should not depend on the
    cwd); pass ``"auto"`` to discover one like the CLI does, a path, or a dict holding the
    ``[tool.ftkit]`` table. ``file`` names the input
    in diagnostics (default ``<input>``). ``jobs`` > 1 runs per-example rules in worker
    processes. Dataset-level rules need the whole input, so diagnostics are yielded once
    the input is exhausted. Raises ``LintConfigError`` for an unknown rule or option.
    """
    from toolkit.linter.engine import Linter
    from toolkit.linter.suppression import Baseline

    settings = load_settings(
        config, select=select, ignore=ignore, extend_select=extend_select, extend_ignore=extend_ignore,
        severity=severity, options=options, baseline=baseline, target=target, model=model, kb=kb, behavior=behavior,
    )
    loaded_baseline = Baseline.load(settings.baseline) if settings.baseline is not None else None
    linter = Linter(settings, jobs=jobs, baseline=loaded_baseline)
    if isinstance(records, (str, os.PathLike)):
        diagnostics = linter.run([records])
    else:
        diagnostics = linter.run(records=records, name=file or "<input>")
    yield from diagnostics


def lint_files(paths: Sequence[str | os.PathLike[str]], config: Any = "auto", **kwargs: Any) -> list[Diagnostic]:
    """Lint JSONL files (config discovered from the cwd by default); returns sorted diagnostics."""
    from toolkit.linter.engine import Linter
    from toolkit.linter.suppression import Baseline

    jobs = kwargs.pop("jobs", None)
    settings = load_settings(config, **kwargs)
    loaded_baseline = Baseline.load(settings.baseline) if settings.baseline is not None else None
    return Linter(settings, jobs=jobs, baseline=loaded_baseline).run([Path(p) if not isinstance(p, str) else p for p in paths])
