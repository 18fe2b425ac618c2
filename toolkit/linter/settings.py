"""Lint configuration: ``[tool.ftkit.lint]`` (or ``[lint]`` in ``ftkit.toml``) merged with the command line.

Keys (rule codes, kebab-case rule names and family prefixes are accepted everywhere)::

    [tool.ftkit]
    target = "openai"               # forwarded to rules that take a ``target`` option
    model = "gpt-4o-mini"           # forwarded to rules that take a ``model`` option

    [tool.ftkit.lint]
    select = ["J", "S", "D", "P"]   # replaces the default set (every rule that is on by default)
    extend-select = ["K"]           # added to the selection
    ignore = ["Q003"]               # removed from the selection
    extend-ignore = ["pii-ip"]
    max-warnings = 0                # more warnings than this fail the run
    baseline = "lint-baseline.json" # known problems that do not fail the run
    kb = "docs/kb"                  # knowledge base, forwarded to rules with a ``kb`` option

    [tool.ftkit.lint.severity]      # code, name or prefix -> error | warning | info
    P = "error"
    pii-ip = "info"

    [tool.ftkit.lint.options.D002]  # code or name -> that rule's options
    threshold = 0.9

    [tool.ftkit.lint.per-file-ignores]
    "data/synthetic/*.jsonl" = ["D", "A001"]

    [tool.ftkit.lint.behavior]      # the behavior spec: read by the V rules (see their docs)

Selection is applied in layers, file first, then command line, as ruff does: a layer's
``select`` (if given) replaces the selection so far, ``extend-select`` adds, and ``ignore`` /
``extend-ignore`` remove. So ``--select P001`` on the command line re-enables a rule the
file ignores, and ``--ignore`` on the command line always wins over the file. A family
prefix (``P``, ``P0``) or ``ALL`` selects every rule it matches, including rules that are off
by default; naming a rule (code or name) selects exactly that rule.

Lines that cannot be read (J001-J005: invalid JSON, not an object, truncated, not UTF-8,
a Git LFS pointer) are reported whatever ``select`` says, unless ignored explicitly, so
no record is ever skipped silently.

Any unknown code, name, prefix, severity or option raises :class:`LintConfigError`, which
the command line reports with exit status 2. Nothing unknown is ever silently ignored.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping, Sequence

from toolkit.diagnostics import Severity
from toolkit.linter.rule import _BY_NAME, Rule, load_all_rules

#: Codes the JSONL reader produces for unreadable lines. They are always known (selectable,
#: ignorable, severity-configurable) even when no J rule module documents them.
READER_CODES = frozenset({"J001", "J002", "J003", "J004", "J005"})

#: Rule options the engine fills from top-level settings when the rule declares them and the
#: user did not set them explicitly in ``options``.
FORWARDED_OPTIONS = ("target", "model", "kb", "behavior")

LINT_KEYS = (
    "select",
    "ignore",
    "extend-select",
    "extend-ignore",
    "severity",
    "options",
    "per-file-ignores",
    "max-warnings",
    "baseline",
    "behavior",
    "kb",
)


class LintConfigError(ValueError):
    """A lint setting names an unknown rule or option, or has a wrong value (exit status 2)."""


@dataclass
class LintSettings:
    """The effective lint settings after merging defaults, the config file and the command line."""

    selected: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)  # code -> configured severity
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> options (validated)
    per_file_ignores: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    max_warnings: int | None = None
    baseline: Path | None = None
    target: str | None = None
    model: str | None = None
    kb: str | None = None
    behavior: dict[str, Any] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)  # config folder: globs and paths are relative to it
    config_path: Path | None = None

    def severity_of(self, code: str) -> Severity:
        if code in self.severity:
            return self.severity[code]
        rule = load_all_rules().get(code)
        return rule.default_severity if rule is not None else Severity.ERROR

    def rule_options(self, code: str) -> dict[str, Any]:
        return dict(self.options.get(code, {}))

    def ignored_for_file(self, file: str | None) -> frozenset[str]:
        """Codes that ``per-file-ignores`` switches off for ``file``."""
        if not file or not self.per_file_ignores:
            return frozenset()
        candidates = _path_candidates(file, self.root)
        out: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if any(_glob_match(candidate, pattern) for candidate in candidates):
                out.update(codes)
        return frozenset(out)


def _path_candidates(file: str, root: Path) -> list[str]:
    """The forms of a path a glob may match: as given, relative to the config root, basename."""
    given = PurePosixPath(Path(file).as_posix())
    out = [str(given)]
    try:
        absolute = Path(file).resolve()
        out.append(absolute.as_posix())
        relative = absolute.relative_to(root.resolve())
        out.append(relative.as_posix())
    except (ValueError, OSError):
        pass
    out.append(given.name)
    return list(dict.fromkeys(out))


def _glob_match(path: str, pattern: str) -> bool:
    pattern = pattern.replace("\\", "/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if "/" not in pattern:
        # A bare pattern ("*.gz", "train.jsonl") matches the file name anywhere, as in .gitignore.
        return fnmatch.fnmatchcase(PurePosixPath(path).name, pattern) or fnmatch.fnmatchcase(path, pattern)
    # "**/" may match no folder at all.
    if fnmatch.fnmatchcase(path, pattern):
        return True
    return "**/" in pattern and fnmatch.fnmatchcase(path, pattern.replace("**/", ""))


# --------------------------------------------------------------------------- selectors


def expand_selectors(selectors: Iterable[str], *, where: str) -> set[str]:
    """Codes matched by selectors (codes, names, prefixes, ``ALL``); unknown ones raise."""
    rules = {**{code: None for code in READER_CODES}, **load_all_rules()}
    chosen: set[str] = set()
    for raw in selectors:
        if not isinstance(raw, str) or not raw.strip():
            raise LintConfigError(f"{where}: rule selector {raw!r} must be a non-empty string")
        selector = raw.strip()
        if selector.upper() == "ALL":
            chosen.update(rules)
            continue
        if selector in _BY_NAME:
            chosen.add(_BY_NAME[selector])
            continue
        prefix = selector.upper()
        matched = {code for code in rules if code.startswith(prefix)} if _looks_like_code(prefix) else set()
        if not matched:
            raise LintConfigError(f"{where}: unknown rule code, name or prefix {selector!r}{_suggest(selector, rules)}")
        chosen.update(matched)
    return chosen


def _looks_like_code(text: str) -> bool:
    return bool(text) and text[0].isalpha() and text.isalnum()


def _suggest(selector: str, rules: Mapping[str, Any]) -> str:
    import difflib

    names = list(rules) + list(_BY_NAME)
    close = difflib.get_close_matches(selector, names, n=1, cutoff=0.75)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return " (`ftkit rule --all` lists the rules)"


def resolve_one(selector: str, *, where: str) -> str:
    """One rule by code or name (not a prefix); unknown raises :class:`LintConfigError`."""
    rules = load_all_rules()
    if selector.upper() in rules:
        return selector.upper()
    if selector.upper() in READER_CODES:
        raise LintConfigError(f"{where}: {selector.upper()} is reported by the JSONL reader and has no options")
    if selector in _BY_NAME:
        return _BY_NAME[selector]
    raise LintConfigError(f"{where}: unknown rule {selector!r}{_suggest(selector, rules)}")


def default_selection() -> set[str]:
    return {code for code, rule in load_all_rules().items() if rule.default_enabled} | set(READER_CODES)


@dataclass
class SelectionLayer:
    """One source of rule selection (the config file or the command line)."""

    name: str
    select: Sequence[str] | None = None
    extend_select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    extend_ignore: Sequence[str] = ()


def apply_layers(layers: Iterable[SelectionLayer]) -> set[str]:
    """The selected codes after applying each layer in order.

    Unreadable lines (the reader codes J001-J005) are always reported, whatever ``select``
    says, unless a layer ignores them explicitly: a record must never vanish silently.
    """
    current = default_selection()
    ignored: set[str] = set()
    for layer in layers:
        if layer.select is not None:
            current = expand_selectors(layer.select, where=f"{layer.name} select")
        added = expand_selectors(layer.extend_select, where=f"{layer.name} extend-select")
        current |= added
        removed = expand_selectors(layer.ignore, where=f"{layer.name} ignore")
        removed |= expand_selectors(layer.extend_ignore, where=f"{layer.name} extend-ignore")
        current -= removed
        ignored = (ignored - added - (current if layer.select is not None else set())) | removed
    return current | (set(READER_CODES) - ignored)


# --------------------------------------------------------------------------- building settings


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise LintConfigError(f"{where}: must be a list of rule codes or names")


def _parse_severity(value: Any, where: str) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise LintConfigError(f"{where}: severity must be error, warning or info, got {value!r}") from None


def build_settings(
    config: Mapping[str, Any] | None = None,
    *,
    config_path: str | os.PathLike[str] | None = None,
    select: Sequence[str] | str | None = None,
    ignore: Sequence[str] | str | None = None,
    extend_select: Sequence[str] | str | None = None,
    extend_ignore: Sequence[str] | str | None = None,
    severity: Mapping[str, str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    per_file_ignores: Mapping[str, Sequence[str]] | None = None,
    max_warnings: int | None = None,
    baseline: str | os.PathLike[str] | None = None,
    target: str | None = None,
    model: str | None = None,
    kb: str | os.PathLike[str] | None = None,
    behavior: Mapping[str, Any] | None = None,
) -> LintSettings:
    """Merge a whole ``[tool.ftkit]`` table (``config``) with overrides (the command line).

    ``config`` is the full ftkit table (top-level ``target``/``model`` plus a ``lint``
    section); a table that only holds lint keys is accepted too. Keyword arguments win
    over the file. Raises :class:`LintConfigError` for anything unknown or malformed.
    """
    table = dict(config or {})
    if "lint" in table and isinstance(table["lint"], Mapping):
        lint = dict(table["lint"])
    elif any(key in table for key in LINT_KEYS):
        lint = {k: v for k, v in table.items() if k in LINT_KEYS}
    else:
        lint = {}
    source = str(config_path) if config_path else "configuration"
    unknown = sorted(set(lint) - set(LINT_KEYS))
    if unknown:
        raise LintConfigError(f"{source}: [lint] has unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(LINT_KEYS)}")
    root = Path(config_path).resolve().parent if config_path else Path.cwd()

    file_layer = SelectionLayer(
        f"{source}: lint",
        select=_str_list(lint["select"], f"{source}: lint.select") if "select" in lint else None,
        extend_select=_str_list(lint.get("extend-select"), f"{source}: lint.extend-select"),
        ignore=_str_list(lint.get("ignore"), f"{source}: lint.ignore"),
        extend_ignore=_str_list(lint.get("extend-ignore"), f"{source}: lint.extend-ignore"),
    )
    cli_layer = SelectionLayer(
        "command line:",
        select=_str_list(select, "--select") if select is not None else None,
        extend_select=_str_list(extend_select, "--extend-select"),
        ignore=_str_list(ignore, "--ignore"),
        extend_ignore=_str_list(extend_ignore, "--extend-ignore"),
    )
    selected = apply_layers([file_layer, cli_layer])

    # Severity: the file, then the command line; within each, prefixes first and more specific
    # selectors after (a name is the most specific), so the later, narrower setting wins.
    file_sev = lint.get("severity") or {}
    if not isinstance(file_sev, Mapping):
        raise LintConfigError(f"{source}: lint.severity must be a table of code = severity")
    sev_out: dict[str, Severity] = {}
    for layer_name, table_ in ((f"{source}: lint.severity", file_sev), ("--severity", severity or {})):
        ranked = []
        for key, value in table_.items():
            where = f"{layer_name}.{key}" if layer_name != "--severity" else f"--severity {key}"
            level = _parse_severity(value, where)
            codes = expand_selectors([key], where=where)
            specificity = 1000 if key in _BY_NAME else len(key)
            ranked.append((specificity, sorted(codes), level))
        for _, codes, level in sorted(ranked, key=lambda item: item[0]):
            for code in codes:
                sev_out[code] = level

    # Options: code or name -> table; validated by instantiating each rule's option checker.
    opts_out: dict[str, dict[str, Any]] = {}
    for layer_name, table_ in ((f"{source}: lint.options", lint.get("options") or {}), ("--option", options or {})):
        if not isinstance(table_, Mapping):
            raise LintConfigError(f"{layer_name} must be a table of rule -> options")
        for key, values in table_.items():
            code = resolve_one(str(key), where=f"{layer_name}.{key}")
            if not isinstance(values, Mapping):
                raise LintConfigError(f"{layer_name}.{key}: must be a table of option = value")
            merged = {**opts_out.get(code, {}), **{str(k).replace("_", "-"): v for k, v in values.items()}}
            opts_out[code] = merged

    # per-file-ignores: file then command line, patterns kept in order.
    pfi: list[tuple[str, frozenset[str]]] = []
    for layer_name, table_ in ((f"{source}: lint.per-file-ignores", lint.get("per-file-ignores") or {}),
                               ("--per-file-ignores", per_file_ignores or {})):
        if not isinstance(table_, Mapping):
            raise LintConfigError(f"{layer_name} must be a table of glob = [codes]")
        for pattern, codes in table_.items():
            where = f"{layer_name}.{pattern!r}"
            pfi.append((str(pattern), frozenset(expand_selectors(_str_list(codes, where), where=where))))

    mw = max_warnings if max_warnings is not None else lint.get("max-warnings")
    if mw is not None and (isinstance(mw, bool) or not isinstance(mw, int) or mw < 0):
        raise LintConfigError(f"{source}: max-warnings must be a non-negative integer, got {mw!r}")

    def _path(value: Any, key: str, from_file: bool) -> Path | None:
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)):
            raise LintConfigError(f"{source}: lint.{key} must be a path string")
        path = Path(value)
        # Paths in the file are relative to the file's folder; command-line ones to the cwd.
        return path if path.is_absolute() or not from_file else root / path

    baseline_path = _path(baseline, "baseline", False) if baseline is not None else _path(lint.get("baseline"), "baseline", True)
    kb_path = _path(kb, "kb", False) if kb is not None else _path(lint.get("kb"), "kb", True)

    if target is not None:
        from toolkit.config import load_schema

        allowed = load_schema("config").get("properties", {}).get("target", {}).get("enum")
        if allowed and target not in allowed:
            raise LintConfigError(f"--target: unknown target {target!r}; choose one of: {', '.join(allowed)}")

    beh = dict(lint.get("behavior") or {})
    if behavior:
        beh.update(behavior)

    settings = LintSettings(
        selected=frozenset(selected),
        severity=sev_out,
        options=opts_out,
        per_file_ignores=pfi,
        max_warnings=mw,
        baseline=baseline_path,
        target=target if target is not None else table.get("target"),
        model=model if model is not None else table.get("model"),
        kb=str(kb_path) if kb_path is not None else None,
        behavior=beh,
        root=root,
        config_path=Path(config_path) if config_path else None,
    )
    # Validate every configured option now (unknown option or wrong type -> error), even
    # for rules that are not selected: a typo must not wait until the rule is switched on.
    # (Checked against the declared options without building the rules: some rules load
    # data when built, e.g. a knowledge-base index; the engine builds them once.)
    for code in sorted((set(opts_out) | settings.selected) & set(load_all_rules())):
        check_options(code, effective_options(code, settings), where=f"{source}: lint.options")
    registry = load_all_rules()
    if settings.kb is not None and not any(
        any(o.name == "kb" for o in registry[c].options) for c in settings.selected if c in registry
    ):
        raise LintConfigError("--kb: no selected rule takes a knowledge base (select the K rules, e.g. --extend-select K)")
    return settings


def effective_options(code: str, settings: LintSettings) -> dict[str, Any]:
    """A rule's options: explicit ``options`` first, then forwarded top-level settings."""
    rule = load_all_rules()[code]
    declared = {o.name for o in rule.options}
    values = settings.rule_options(code)
    forwarded = {"target": settings.target, "model": settings.model, "kb": settings.kb,
                 "behavior": settings.behavior or None}
    for name in FORWARDED_OPTIONS:
        if name in declared and name not in values and forwarded[name] is not None:
            values[name] = forwarded[name]
    # The behavior table also fills same-named options of behavior (V) rules.
    if settings.behavior and rule.code.startswith("V"):
        for key, value in settings.behavior.items():
            if key in declared and key not in values:
                values[key] = value
    return values


def check_options(code: str, values: Mapping[str, Any], *, where: str) -> None:
    """Raise :class:`LintConfigError` for an option the rule does not declare or a wrong type."""
    rule_cls = load_all_rules()[code]
    declared = {opt.name: opt for opt in rule_cls.options}
    for key, value in values.items():
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise LintConfigError(f"{where}: {code} ({rule_cls.name}): unknown option {key!r}; options: {known}")
        try:
            declared[key].coerce(value, rule_code=code)
        except ValueError as exc:
            raise LintConfigError(f"{where}: {exc}") from None


def instantiate(code: str, settings: LintSettings) -> Rule:
    """Build one rule with its effective options (``ValueError`` on an unknown option)."""
    rule_cls = load_all_rules()[code]
    return rule_cls(effective_options(code, settings))


def settings_from_config(loaded: Any, **overrides: Any) -> LintSettings:
    """Build settings from a :class:`toolkit.config.LoadedConfig` plus overrides."""
    return build_settings(loaded.data, config_path=loaded.path, **overrides)
