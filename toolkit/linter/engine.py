"""The lint engine: stream examples through the selected rules and produce located diagnostics.

Flow for one run (any number of files, or one iterable of records)::

    main process: raw lines (BOM / CRLF noted, blank lines skipped) -> chunks of 128 lines
    per chunk (worker processes when the input is large, else in this process):
       parse (J errors for unreadable lines) -> ExampleContext
       |-> example rules: check()
       |-> dataset rules: prepare() (prepare_many per chunk)
       -> per example back to the main process: fingerprint, in-record suppression,
          the prepare results (small: keys, hashes, counts); the findings
    main process, chunks in input order:
       dataset rules: observe() on a record-less context holding the prepare results,
       finish() at the end
    findings -> Diagnostics (code, name, configured severity, file, line, pointer,
                fingerprint, score, spans, fixable, hint)
    -> per-file-ignores -> in-record suppressions -> baseline -> X001/X002 -> sorted

The main process never parses an example: it splits lines, ships bytes and merges what
comes back, so it does not bound the run's speed. Chunks run in this process (the same
code path) for small inputs, ``jobs=1`` and fix runs (fixes are closures).

Memory: records are not kept. The engine keeps the diagnostics, the suppression lists of
the (few) examples that carry one, and the fixes to apply; dataset rules keep what they
need (e.g. the near-duplicate index).

Output order is deterministic: by file, line, code, then pointer and message; chunk
results are merged in submission order.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import multiprocessing
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping, Sequence

import orjson

from toolkit.diagnostics import Diagnostic, Severity
from toolkit.io.jsonl import (
    J_BOM,
    J_CRLF,
    JsonlLine,
    LineError,
    display_name,
    iter_raw_lines,
    open_binary,
    parse_body,
)
from toolkit.linter.rule import DatasetRule, ExampleContext, ExampleRule, Finding, Fix, Rule, load_all_rules
from toolkit.linter.rules.meta import ENGINE_CODES
from toolkit.linter.settings import LintConfigError, LintSettings, effective_options
from toolkit.linter.suppression import Baseline, RecordSuppression, record_suppression

#: Names for the syntax codes the reader produces, used when no J rule module documents them.
FALLBACK_NAMES = {
    "J001": "invalid-json",
    "J002": "not-an-object",
    "J003": "truncated-line",
    "J004": "not-utf8",
    "J005": "git-lfs-pointer",
    "J006": "utf8-bom",
    "J007": "crlf-line-endings",
}

CHUNK = 128  # records per worker task (~0.2 s of work: small enough to spread a 1,000-example file over the cores)
PARALLEL_MIN = 2 * CHUNK  # below this many records everything runs in this process (a pool costs ~50 ms to start)


class RuleCrash(RuntimeError):
    """A rule raised an exception: an internal error (exit status 2), named by rule and location."""


@dataclass
class LintStats:
    files: int = 0
    examples: int = 0  # parsed records
    unreadable: int = 0  # lines that did not parse
    suppressed: int = 0  # by metadata.ftkit.ignore
    per_file_ignored: int = 0
    baselined: int = 0
    hidden_unsafe_fixes: int = 0
    jobs: int = 1


@dataclass
class _Item:
    """A diagnostic plus what the engine needs internally (never shown to users)."""

    diagnostic: Diagnostic
    index: int | None  # the example's run-wide index, None for file-level problems
    fix: Fix | None = None
    file_fix: str | None = None  # "bom", "crlf" or "reencode": whole-file fixes the engine applies


@dataclass
class FileFixes:
    """Fixes to apply to one file: per line, and whole-file ones (BOM, CRLF, encoding)."""

    records: dict[int, list[Fix]] = field(default_factory=dict)  # line -> fixes in order
    strip_bom: bool = False
    crlf_to_lf: bool = False
    reencode_lines: set[int] = field(default_factory=set)


# --------------------------------------------------------------------------- inputs


@dataclass
class _Line:
    """One non-blank input line: raw bytes from a file, or a record from an iterable."""

    file: str
    line: int
    value: Any = None  # a record given as an object (not read from bytes)
    error: LineError | None = None  # known before parsing (records that are not objects)
    raw: bytes | None = None  # the line's bytes, BOM and CR removed
    last: bool = False  # the file's last line (a parse error there may be a truncation)
    index: int = 0  # run-wide position, set by the engine


def _file_lines(source: str | os.PathLike[str] | IO[bytes], name: str, flags: dict[str, Any]) -> Iterator[_Line]:
    """Raw lines of a file, not parsed (workers parse them); notes a BOM and CRLF line ends in ``flags``."""
    with open_binary(source) as stream:
        for number, raw, last in iter_raw_lines(stream):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                flags["bom"] = True
                raw = raw[3:]
            if raw.endswith(b"\r"):
                flags["crlf"] = flags.get("crlf", 0) + 1
                flags.setdefault("crlf_first", number)
                raw = raw[:-1]
            if not raw or raw.isspace():  # blank lines are skipped (as read_jsonl does)
                continue
            yield _Line(name, number, raw=raw, last=last)


def _record_lines(records: Iterable[Any], name: str) -> Iterator[_Line]:
    """Records from an iterable: dicts, ``JsonlLine`` objects, or objects with ``to_dict()``."""
    for number, item in enumerate(records, start=1):
        if isinstance(item, JsonlLine):
            yield _Line(item.file, item.line, item.value, item.error, item.raw or None)
            continue
        if hasattr(item, "to_dict") and not isinstance(item, Mapping):
            item = item.to_dict()
        if isinstance(item, Mapping):
            yield _Line(name, number, item if isinstance(item, dict) else dict(item))
        else:
            kind = type(item).__name__
            yield _Line(name, number, item, LineError("J002", f"record is a {kind}, not an object",
                                                      hint="each record must be one JSON object"))


# --------------------------------------------------------------------------- chunk side (workers, or this process)

_WORKER_RULES: list[ExampleRule] = []
_WORKER_PREP: list[DatasetRule] = []
#: Per-rule CPU seconds in this process when timing is on (``ftkit lint --timing``); None when off.
_TIMINGS: dict[str, float] | None = None

#: One line of a chunk: (file, line, run-wide index, raw bytes or a record, is the file's last line).
_Task = tuple[str, int, int, Any, bool]
#: What a chunk reports per line: a ``LineError``, or (fingerprint, suppression, prepare results, record or None).
_Outcome = Any
#: An example rule's findings on one line of the chunk: (position in the chunk, code, findings).
_Found = tuple[int, str, list[Finding]]


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory in the worker's heap instead of returning it to the system.

    Workers allocate and free the same large buffers chunk after chunk (the MinHash batch
    arrays are a few hundred KiB). By default glibc serves those with mmap and unmaps them
    on free, or trims the heap top, so every chunk faults its pages in again: about a tenth
    of the workers' CPU time went to page faults. The heap stays at its peak size instead.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # mallopt parameters (glibc malloc.h)
    libc.mallopt(m_trim_threshold, 256 << 20)
    libc.mallopt(m_mmap_threshold, 64 << 20)


# Cyclic-GC thresholds while linting. Checking an example allocates thousands of short-lived
# containers (parsed records, match lists, spans), almost none in reference cycles, so the
# default generation-0 threshold (700) ran a collection every few examples, each scanning
# the chunk's live contexts: about a seventh of the CPU time, for next to no garbage.
_LINT_GC_THRESHOLDS = (10_000, 50, 50)


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """Run with :data:`_LINT_GC_THRESHOLDS`, then restore the caller's thresholds (library calls too)."""
    previous = gc.get_threshold()
    gc.set_threshold(*_LINT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _worker_init(specs: list[tuple[str, dict[str, Any]]] | None, prep_specs: list[tuple[str, dict[str, Any]]] | None,
                 timing: bool = False) -> None:
    """Set up a worker: tune its allocator and garbage collector, and build the rules in a
    spawned one (a forked one inherits the parent's instances)."""
    global _TIMINGS
    if sys.platform.startswith("linux"):
        _keep_freed_memory()
    gc.set_threshold(*_LINT_GC_THRESHOLDS)
    if specs is not None:
        _TIMINGS = {} if timing else None
        rules = load_all_rules()
        _WORKER_RULES[:] = [rules[code](options) for code, options in specs]  # type: ignore[misc]
        _WORKER_PREP[:] = [rules[code](options) for code, options in prep_specs or ()]  # type: ignore[misc]
    # the modules, patterns and rules live as long as the worker: keep collections from scanning them
    gc.freeze()


def _check_chunk(batch: list[_Task], portable: bool = True, ship_records: bool = False,
                 rules: list[ExampleRule] | None = None, prepare_rules: list[DatasetRule] | None = None,
                 ) -> tuple[list[_Outcome], list[_Found], dict[str, float] | None]:
    """Parse and check a chunk of lines (in a worker, or in the main process for small inputs).

    Returns, per line in order, a ``LineError`` or ``(fingerprint, suppression or None,
    {code: prepare result} or None, the record if ``ship_records`` else None)``; the example
    rules' findings as ``(position, code, findings)``; and per-rule CPU seconds when timing.
    ``portable`` makes findings picklable (fixes lose their closures; only their safety
    matters outside fix runs, which are single-process).
    """
    outcomes: list[_Outcome] = []
    found: list[_Found] = []
    contexts: list[ExampleContext] = []
    positions: list[int] = []
    if rules is None:  # in a worker: the rules it inherited or built
        rules, prepare_rules = _WORKER_RULES, _WORKER_PREP
    assert prepare_rules is not None
    segments = _gated_segments(rules)
    for position, (file, line, index, data, last) in enumerate(batch):
        if type(data) is bytes:
            parsed = parse_body(data, file, line, last=last)
            if parsed.error is not None:
                outcomes.append(parsed.error)
                continue
            record = parsed.value
        else:
            record = data
        ctx = ExampleContext(record, file=file, line=line, index=index)
        outcomes.append(None)  # filled in below
        contexts.append(ctx)
        positions.append(position)
        if _TIMINGS is not None:
            for rule in rules:
                findings = _run_rule(rule, ctx, "check")
                if findings:
                    found.append((position, rule.code, findings))
            continue
        rule = None
        try:
            for gate, group in segments:
                if gate is not None:
                    rule = group[0]  # a failing gate is reported as its first rule's crash
                    if not gate(ctx):
                        continue
                for rule in group:
                    result = rule.check(ctx)
                    if result:
                        findings = list(result)
                        if findings:
                            found.append((position, rule.code, findings))
        except Exception as exc:  # a rule bug must name itself, not kill the run anonymously
            raise _crash(rule, ctx, exc) from exc  # type: ignore[arg-type]
    if portable:
        for _position, _code, findings in found:
            for finding in findings:
                # Fixes are closures and do not pickle; only their safety matters here.
                finding.fix = _portable_fix(finding.fix)
                if isinstance(finding.at, ExampleContext):
                    finding.at = finding.at.ref
    # Dataset rules' per-example part, a column per rule over the chunk (after the example
    # rules, so caches they leave on the contexts serve it).
    columns = [_prepare_column(rule, contexts) for rule in prepare_rules]
    codes = [rule.code for rule in prepare_rules]
    for k, (position, ctx) in enumerate(zip(positions, contexts)):
        prepared = {code: column[k] for code, column in zip(codes, columns)} if columns else None
        outcomes[position] = (ctx.fingerprint, record_suppression(ctx.record), prepared,
                              ctx.record if ship_records else None)
    timings = None
    if _TIMINGS is not None:
        timings = dict(_TIMINGS)
        _TIMINGS.clear()
    return outcomes, found, timings


def _gated_segments(rules: list[ExampleRule]) -> list[tuple[Any, list[ExampleRule]]]:
    """``rules`` in order as ``(gate, rules)`` runs: consecutive rules with the same
    ``ExampleRule.gate`` object share one (tested once per example); other rules, and a gate
    that would guard a single rule, get ``None`` (always run)."""
    segments: list[tuple[Any, list[ExampleRule]]] = []
    for rule in rules:
        gate = rule.gate
        if gate is not None and segments and segments[-1][0] is gate:
            segments[-1][1].append(rule)
        else:
            segments.append((gate, [rule]))
    return [(gate if len(group) > 1 else None, group) for gate, group in segments]


def _prepare_column(rule: DatasetRule, contexts: list[ExampleContext]) -> list[Any]:
    started = time.process_time() if _TIMINGS is not None else 0.0
    try:
        column = rule.prepare_many(contexts)
    except Exception:
        for ctx in contexts:  # name the example that breaks it, if one does on its own
            _run_rule(rule, ctx, "prepare")
        raise
    if _TIMINGS is not None:
        _TIMINGS[rule.code] = _TIMINGS.get(rule.code, 0.0) + time.process_time() - started
    return column


def _portable_fix(fix: Fix | None) -> Fix | None:
    return None if fix is None else Fix(fix.description, fix.safety, None)


def _crash(rule: Rule, ctx: ExampleContext, exc: Exception) -> RuleCrash:
    return RuleCrash(
        f"internal error in rule {rule.code} ({rule.name}) on {ctx.file}:{ctx.line}: "
        f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    )


def _run_rule(rule: Rule, ctx: ExampleContext, method: str) -> Any:
    """Call one rule method on one example, timed when timing is on; a failure names the rule."""
    started = time.process_time() if _TIMINGS is not None else 0.0
    try:
        result = getattr(rule, method)(ctx)
        if method != "prepare":
            result = list(result) if result else []
        if _TIMINGS is not None:
            _TIMINGS[rule.code] = _TIMINGS.get(rule.code, 0.0) + time.process_time() - started
        return result
    except Exception as exc:  # a rule bug must name itself, not kill the run anonymously
        raise _crash(rule, ctx, exc) from exc


# --------------------------------------------------------------------------- the engine


class Linter:
    """One lint run's rules and state. Build one per run (dataset rules keep state)."""

    def __init__(
        self,
        settings: LintSettings,
        *,
        jobs: int | None = None,
        unsafe_fixes: bool = False,
        collect_fixes: bool = False,
        baseline: Baseline | None = None,
        timing: bool = False,
    ) -> None:
        self.settings = settings
        #: CPU seconds per rule code over all processes (only with ``timing=True``).
        self.timings: dict[str, float] = {}
        self.timing = timing
        self.unsafe_fixes = unsafe_fixes
        self.collect_fixes = collect_fixes
        self.baseline = baseline
        registry = load_all_rules()
        self.example_rules: list[ExampleRule] = []
        self.dataset_rules: list[DatasetRule] = []
        self.rule_specs: list[tuple[str, dict[str, Any]]] = []
        for code in sorted(settings.selected, key=_code_key):
            if code in ENGINE_CODES or code not in registry or getattr(registry[code], "engine_reported", False):
                # Produced by the engine itself: X001/X002, and the J codes (from the reader's
                # line errors and the raw bytes), whose rule classes only carry documentation.
                continue
            options = effective_options(code, settings)
            try:
                rule = registry[code](options)
            except (ValueError, TypeError) as exc:
                raise LintConfigError(str(exc)) from exc
            except OSError as exc:  # e.g. a knowledge base path that cannot be read
                where = getattr(exc, "filename", None) or ""
                raise LintConfigError(f"{code} ({registry[code].name}): {where}{': ' if where else ''}{exc.strerror or exc}") from exc
            if isinstance(rule, DatasetRule):
                self.dataset_rules.append(rule)
            elif not rule.inert:  # a rule that cannot report with these options is not run at all
                self.example_rules.append(rule)  # type: ignore[arg-type]
                self.rule_specs.append((code, options))
        self.rules_by_code: dict[str, Rule] = {r.code: r for r in (*self.example_rules, *self.dataset_rules)}
        self.prepare_rules: list[DatasetRule] = [r for r in self.dataset_rules if r.has_prepare]
        # A dataset rule without prepare() observes whole records: chunks then send them back.
        self.ship_records = len(self.prepare_rules) < len(self.dataset_rules)
        self._registry = registry
        self._severities: dict[tuple[str, Severity | None], Severity] = {}
        cpus = os.cpu_count() or 1
        self.jobs = max(1, min(jobs if jobs else cpus, 32))
        if collect_fixes:
            self.jobs = 1  # fixes are closures: they stay in this process
        self.stats = LintStats()
        self.fixes: dict[str, FileFixes] = {}
        self._items: list[_Item] = []
        self._suppressions: dict[int, tuple[RecordSuppression, str, int, str]] = {}
        self._file_ignores: dict[str, frozenset[str]] = {}
        self._files: list[str] = []

    # ------------------------------------------------------------------ helpers

    def _selected(self, code: str) -> bool:
        return code in self.settings.selected

    def _name_of(self, code: str) -> str | None:
        rule = self._registry.get(code)
        return rule.name if rule is not None else FALLBACK_NAMES.get(code)

    def _severity(self, code: str, override: Severity | None = None) -> Severity:
        key = (code, override)
        severity = self._severities.get(key)
        if severity is None:
            if code in self.settings.severity:
                severity = self.settings.severity[code]
            elif override is not None:
                severity = override
            else:
                rule = self._registry.get(code)
                severity = rule.default_severity if rule is not None else Severity.ERROR
            self._severities[key] = severity
        return severity

    def _fix_usable(self, fix: Fix | None) -> bool:
        return fix is not None and (fix.safety == "safe" or self.unsafe_fixes)

    def _add_finding(self, rule: Rule, finding: Finding, file: str, line: int, index: int | None, fingerprint: str | None) -> None:
        target = finding.at
        if target is not None:
            file, line, index, fingerprint = target.file, target.line, target.index, target.fingerprint
        fixable = self._fix_usable(finding.fix)
        diagnostic = Diagnostic(
            code=rule.code,
            message=finding.message,
            severity=self._severity(rule.code, finding.severity),
            file=file,
            line=line,
            pointer=finding.pointer,
            hint=finding.hint,
            name=rule.name,
            fingerprint=fingerprint,
            score=finding.score,
            spans=list(finding.spans),
            fixable=fixable,
            extra=dict(finding.extra),
        )
        self._items.append(_Item(diagnostic, index, finding.fix))

    def _line_error(self, item: _Line, error: LineError) -> None:
        code = error.code
        if not self._selected(code):
            return
        from hashlib import sha256

        raw = item.raw if item.raw is not None else (orjson.dumps(item.value) if item.value is not None else b"")
        diagnostic = Diagnostic(
            code=code,
            message=error.message,
            severity=self._severity(code),
            file=item.file,
            line=item.line,
            column=error.column,
            hint=error.hint,
            name=self._name_of(code),
            # An unreadable line has no record: its identity is its bytes, so a baseline still
            # follows it when lines above it move.
            fingerprint=f"line:{sha256(raw).hexdigest()[:16]}",
        )
        file_fix = None
        if code == "J004" and item.raw is not None:
            from toolkit.linter.fixes import reencode_line

            if reencode_line(item.raw) is not None:
                diagnostic.fixable = True
                diagnostic.hint = "`ftkit lint --fix` re-decodes the line as Windows-1252 and writes UTF-8"
                file_fix = "reencode"
        self._items.append(_Item(diagnostic, None, file_fix=file_fix))

    def _file_level(self, name: str, flags: Mapping[str, Any]) -> None:
        """BOM and CRLF: only the engine sees raw bytes, so it reports these J codes when selected."""
        if flags.get("bom") and self._selected(J_BOM):
            self._items.append(_Item(Diagnostic(
                code=J_BOM, message="the file starts with a UTF-8 byte order mark (BOM)", severity=self._severity(J_BOM),
                file=name, line=1, name=self._name_of(J_BOM), fixable=True,
                hint="most trainers expect plain UTF-8; `ftkit lint --fix` removes it"), None, file_fix="bom"))
        crlf = flags.get("crlf", 0)
        if crlf and self._selected(J_CRLF):
            self._items.append(_Item(Diagnostic(
                code=J_CRLF, message=f"{crlf} line(s) end in CRLF (\\r\\n), first here", severity=self._severity(J_CRLF),
                file=name, line=flags.get("crlf_first", 1), name=self._name_of(J_CRLF), fixable=True,
                hint="`ftkit lint --fix` rewrites them with LF"), None, file_fix="crlf"))

    # ------------------------------------------------------------------ running

    def run(self, sources: Sequence[str | os.PathLike[str] | IO[bytes]] | None = None, *,
            records: Iterable[Any] | None = None, name: str = "<input>") -> list[Diagnostic]:
        """Lint files (paths, ``-`` for stdin, binary streams) or an iterable of records.

        Returns the diagnostics, sorted by file, line and code.
        Raises ``OSError`` when a file cannot be opened (the CLI reports it, exit 2) and
        :class:`RuleCrash` when a rule fails.
        """
        streams: list[tuple[str, Iterator[_Line], dict[str, Any]]] = []
        for source in sources or ():
            display = display_name(source)
            flags: dict[str, Any] = {}
            streams.append((display, _file_lines(source, display, flags), flags))
        if records is not None:
            streams.append((name, _record_lines(records, name), {}))
        global _TIMINGS
        previous = _TIMINGS
        _TIMINGS = {} if self.timing else None  # forked workers inherit the switch
        try:
            with _rare_collections():
                self._process(streams)
                result = self.finish()
        finally:
            if _TIMINGS:
                for code, seconds in _TIMINGS.items():
                    self.timings[code] = self.timings.get(code, 0.0) + seconds
            _TIMINGS = previous
        return result

    def _process(self, streams: list[tuple[str, Iterator[_Line], dict[str, Any]]]) -> None:
        """Read every stream into chunks; check them in this process, or in workers once the input is large.

        The first ``PARALLEL_MIN`` lines are held until it is clear whether the input is
        large enough for workers. Chunk results are merged in input order, so dataset rules
        observe the examples in order whichever process checked them.
        """
        pool = None
        pending: collections.deque = collections.deque()
        chunk: list[_Line] = []
        held = 0  # lines waiting for the decision whether to start workers
        index = 0
        use_workers = self.jobs > 1 and bool(self.example_rules or self.dataset_rules)
        decided = not use_workers
        try:
            for display, lines, flags in streams:
                self._files.append(display)
                self.stats.files += 1
                self._file_ignores[display] = self.settings.ignored_for_file(display)
                for item in lines:
                    index += 1
                    if item.error is not None:
                        self.stats.unreadable += 1
                        self._line_error(item, item.error)
                        continue
                    item.index = index
                    chunk.append(item)
                    if len(chunk) < CHUNK:
                        continue
                    if pool is None and not decided:
                        held += len(chunk)
                        if held < PARALLEL_MIN:
                            pending.append((chunk, None))
                            chunk = []
                            continue
                        pool = self._start_pool()
                        decided = True
                        held_chunks = [held_lines for held_lines, _ in pending] + [chunk]
                        pending.clear()
                        for held_lines in held_chunks:
                            pending.append((held_lines, pool.apply_async(_check_chunk, self._chunk_args(held_lines, True))))
                    elif pool is None:
                        self._collect(chunk, _check_chunk(*self._chunk_args(chunk, False)))
                    else:
                        pending.append((chunk, pool.apply_async(_check_chunk, self._chunk_args(chunk, True))))
                        while len(pending) > 2 * self.jobs:
                            done_lines, result = pending.popleft()
                            self._collect(done_lines, result.get())
                    chunk = []
                self._file_level(display, flags)
            # End of input.
            if chunk:
                pending.append((chunk, pool.apply_async(_check_chunk, self._chunk_args(chunk, True)) if pool else None))
            while pending:  # in input order; chunks held for the decision and never sent run here
                done_lines, result = pending.popleft()
                self._collect(done_lines, result.get() if result is not None
                              else _check_chunk(*self._chunk_args(done_lines, False)))
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
        self.stats.jobs = self.jobs if pool is not None else 1

    def _chunk_args(self, lines: list[_Line], remote: bool) -> tuple[Any, ...]:
        """Arguments of :func:`_check_chunk`: workers get bytes, this process the records themselves."""
        if remote:
            batch = [(item.file, item.line, item.index, item.raw if item.raw is not None else orjson.dumps(item.value),
                      item.last) for item in lines]
            return batch, True, self.ship_records
        batch = [(item.file, item.line, item.index, item.value if item.value is not None else item.raw, item.last)
                 for item in lines]
        return batch, False, self.ship_records, self.example_rules, self.prepare_rules

    def _start_pool(self) -> Any:
        global _WORKER_RULES, _WORKER_PREP
        if sys.platform.startswith("linux"):
            # Forked workers inherit these instances (and whatever they loaded) copy-on-write.
            _WORKER_RULES[:] = self.example_rules
            _WORKER_PREP[:] = self.prepare_rules
            context = multiprocessing.get_context("fork")
            return context.Pool(self.jobs, initializer=_worker_init, initargs=(None, None))
        context = multiprocessing.get_context("spawn")
        prep_specs = [(r.code, effective_options(r.code, self.settings)) for r in self.prepare_rules]
        return context.Pool(self.jobs, initializer=_worker_init, initargs=(self.rule_specs, prep_specs, self.timing))

    def _collect(self, lines: list[_Line], outcome: tuple[list[_Outcome], list[_Found], dict[str, float] | None]) -> None:
        """Merge one chunk's results: line errors, suppressions, dataset rules' observe, then findings."""
        outcomes, found, timings = outcome
        if timings:
            for code, seconds in timings.items():
                self.timings[code] = self.timings.get(code, 0.0) + seconds
        fingerprints: list[str | None] = [None] * len(lines)
        dataset_rules = self.dataset_rules
        timed = _TIMINGS is not None
        for position, (item, result) in enumerate(zip(lines, outcomes)):
            if type(result) is not tuple:
                self.stats.unreadable += 1
                self._line_error(item, result)
                continue
            self.stats.examples += 1
            fingerprint, suppression, prepared, record = result
            fingerprints[position] = fingerprint
            if suppression is not None:
                self._suppressions[item.index] = (suppression, item.file, item.line, fingerprint)
            if not dataset_rules:
                continue
            # The record stays in the worker: observe() sees the location and the prepare results.
            ctx = ExampleContext(record, file=item.file, line=item.line, index=item.index)
            state = ctx.__dict__
            state["fingerprint"] = fingerprint
            if prepared is not None:
                state["_prepared"] = prepared
            if timed:
                for rule in dataset_rules:
                    for finding in _run_rule(rule, ctx, "observe"):
                        self._add_finding(rule, finding, item.file, item.line, item.index, None if finding.at else fingerprint)
                continue
            rule = None
            try:
                for rule in dataset_rules:
                    result = rule.observe(ctx)
                    if result:
                        for finding in result:
                            self._add_finding(rule, finding, item.file, item.line, item.index,
                                              None if finding.at else fingerprint)
            except RuleCrash:
                raise
            except Exception as exc:
                raise _crash(rule, ctx, exc) from exc  # type: ignore[arg-type]
        rules_by_code = self.rules_by_code
        for position, code, findings in found:
            item = lines[position]
            rule = rules_by_code[code]
            for finding in findings:
                self._add_finding(rule, finding, item.file, item.line, item.index, fingerprints[position])

    # ------------------------------------------------------------------ finishing

    def finish(self) -> list[Diagnostic]:
        for rule in self.dataset_rules:
            started = time.process_time()
            try:
                findings = list(rule.finish() or ())
                if self.timing:
                    self.timings[rule.code] = self.timings.get(rule.code, 0.0) + time.process_time() - started
            except Exception as exc:
                raise RuleCrash(f"internal error in rule {rule.code} ({rule.name}) at the end of the dataset: "
                                f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}") from exc
            for finding in findings:
                if finding.at is None:
                    # A whole-dataset finding with no example: attach it to the first file.
                    file = self._files[0] if self._files else None
                    self._add_finding(rule, finding, file, None, None, None)  # type: ignore[arg-type]
                else:
                    self._add_finding(rule, finding, "", 0, None, None)
        kept = self._filter()
        kept.sort(key=_item_sort_key)
        # Unsafe fixes not offered (no --unsafe-fixes), counted on what is reported.
        self.stats.hidden_unsafe_fixes = sum(1 for item in kept if item.fix is not None and not item.diagnostic.fixable)
        # Fixes are collected only for problems that survived suppression and the baseline.
        if self.collect_fixes:
            for item in kept:
                d = item.diagnostic
                if d.file is None or d.line is None:
                    continue
                if item.fix is not None and d.fixable:
                    self.fixes.setdefault(d.file, FileFixes()).records.setdefault(d.line, []).append(item.fix)
                elif item.file_fix == "bom":
                    self.fixes.setdefault(d.file, FileFixes()).strip_bom = True
                elif item.file_fix == "crlf":
                    self.fixes.setdefault(d.file, FileFixes()).crlf_to_lf = True
                elif item.file_fix == "reencode":
                    self.fixes.setdefault(d.file, FileFixes()).reencode_lines.add(d.line)
        return [item.diagnostic for item in kept]

    def _filter(self) -> list[_Item]:
        kept: list[_Item] = []
        for item in self._items:
            diagnostic = item.diagnostic
            ignored = self._file_ignores.get(diagnostic.file or "", frozenset())
            if diagnostic.code in ignored:
                self.stats.per_file_ignored += 1
                continue
            entry = self._suppressions.get(item.index) if item.index is not None else None
            if entry is not None and entry[0].suppresses(diagnostic.code):
                self.stats.suppressed += 1
                continue
            kept.append(item)
        # Unused in-record suppressions (X002).
        if self._selected("X002"):
            for index in sorted(self._suppressions):
                suppression, file, line, fingerprint = self._suppressions[index]
                if "X002" in self._file_ignores.get(file, frozenset()):
                    continue
                for position, text in suppression.unused():
                    # Only entries for rules that ran this time can be called unused.
                    codes = suppression.entries[position][1]
                    if not codes & (self.settings.selected | _READER_CODES):
                        continue
                    diagnostic = Diagnostic(
                        code="X002",
                        message=f"suppression {text!r} in metadata.ftkit.ignore silences nothing on this example",
                        severity=self._severity("X002"),
                        file=file, line=line, pointer=f"/metadata/ftkit/ignore/{suppression.positions[position]}",
                        name=self._name_of("X002"), fingerprint=fingerprint,
                        hint="remove it (the problem it silenced is gone)",
                    )
                    if not (suppression.suppresses("X002")):
                        kept.append(_Item(diagnostic, index))
        # Baseline last: it absorbs problems that would otherwise be reported.
        if self.baseline is not None:
            survivors = []
            for item in sorted(kept, key=_item_sort_key):
                if self.baseline.absorbs(item.diagnostic):
                    self.stats.baselined += 1
                else:
                    survivors.append(item)
            kept = survivors
            if self._selected("X001"):
                baseline_file = str(self.baseline.path) if self.baseline.path else "<baseline>"
                for entry, code, missing in self.baseline.stale(self._files):
                    kept.append(_Item(Diagnostic(
                        code="X001",
                        message=f"baseline entry {entry.fingerprint} expects {missing} more {code} problem(s) than found",
                        severity=self._severity("X001"), file=baseline_file, line=entry.line,
                        pointer=f"/examples/{_escape(entry.fingerprint)}/codes/{code}",
                        name=self._name_of("X001"), fingerprint=entry.fingerprint,
                        hint="the problem was fixed: re-write the baseline with --write-baseline"), None))
        return kept


_READER_CODES = frozenset(FALLBACK_NAMES)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _code_key(code: str) -> tuple[str, int]:
    family = code.rstrip("0123456789")
    return family, int(code[len(family):] or 0)


def _item_sort_key(item: _Item) -> tuple:
    d = item.diagnostic
    return (d.file or "", d.line or 0, _code_key(d.code), d.pointer, d.message)


def sort_key(d: Diagnostic) -> tuple:
    return (d.file or "", d.line or 0, _code_key(d.code), d.pointer, d.message)
