"""One self-contained HTML report: inline CSS, inline SVG charts drawn here, no scripts, no network.

The page opens from a file, a CI artifact or a pull-request attachment with nothing to
fetch: there is no ``<script>``, no web font, no external stylesheet or image, and no
``http(s)://`` reference (price sources are printed without their scheme). Charts are SVG
built from the report data; every bar carries its number as visible text and as a
``data-value`` attribute, so what the chart shows can be checked.

The output is deterministic: the same data gives byte-identical HTML (no timestamps).
"""

from __future__ import annotations

import html
from typing import Any, Iterable, Mapping, Sequence

PALETTE = {
    "ink": "#1f2933",
    "muted": "#616e7c",
    "line": "#e4e7eb",
    "bg": "#f5f7fa",
    "card": "#ffffff",
    "accent": "#3b6fd8",
    "knowledge": "#d97706",
    "behavior": "#2f855a",
    "error": "#c53030",
    "warning": "#d69e2e",
    "info": "#4a7fc1",
}
ROLE_COLORS = {
    "example": "#3b6fd8",
    "system": "#7b61c9",
    "developer": "#7b61c9",
    "user": "#2b8a9e",
    "assistant": "#2f855a",
    "tool": "#b7791f",
}
VERDICT_COLORS = {"rag": "#d97706", "fine-tune": "#2f855a", "both": "#3b6fd8", "none": "#616e7c"}
VERDICT_LABELS = {"rag": "RAG", "fine-tune": "Fine-tune", "both": "Both: RAG + fine-tune", "none": "No verdict"}

CSS = """
*{box-sizing:border-box}
body{margin:0;background:%(bg)s;color:%(ink)s;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:0 0 12px}
h3{font-size:14px;margin:0 0 8px;color:%(muted)s;font-weight:600}
.sub{color:%(muted)s;margin:0 0 20px}
.card{background:%(card)s;border:1px solid %(line)s;border-radius:10px;padding:18px 20px;margin:0 0 18px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:18px}
.card.chart{padding:12px 14px}
.grid .card{margin:0}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(124px,1fr));gap:12px;margin:0 0 18px}
.tile{background:%(card)s;border:1px solid %(line)s;border-radius:10px;padding:12px 14px}
.tile .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.tile .k{color:%(muted)s;font-size:12px}
.tile.bad .v{color:%(error)s}
.verdict{display:flex;gap:20px;align-items:flex-start}
.badge{flex:none;color:#fff;font-weight:700;border-radius:8px;padding:10px 16px;font-size:18px;min-width:120px;text-align:center}
.verdict p.head{font-size:16px;font-weight:600;margin:2px 0 8px}
ul{margin:6px 0 0;padding-left:20px}
li{margin:2px 0}
.cautions li{color:%(error)s}
table{border-collapse:collapse;width:100%%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid %(line)s;vertical-align:top}
th{font-size:12px;color:%(muted)s;font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;white-space:nowrap}
tr.pick td{background:#eef4ff}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:%(bg)s;padding:1px 4px;border-radius:4px}
.note{color:%(muted)s;font-size:12px;margin:8px 0 0}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:%(muted)s;margin:6px 0 0}
.legend span:before{content:"";display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;background:var(--c)}
svg{display:block;width:100%%;height:auto}
svg text{font-family:inherit}
.empty{color:%(muted)s;font-style:italic}
footer{color:%(muted)s;font-size:12px;margin-top:24px}
""" % PALETTE


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt_int(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"


def fmt_num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    value = float(value)
    return f"{int(value):,}" if value.is_integer() else f"{value:,.{digits}f}"


def fmt_usd(value: Any) -> str:
    if value is None:
        return "-"
    value = float(value)
    if 0 < abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def fmt_pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.0%}"


# --------------------------------------------------------------------------- SVG charts


def svg_histogram(title: str, hist: Mapping[str, Any], color: str, *, width: int = 380, height: int = 190,
                  limit: int | None = None) -> str:
    """A histogram of token lengths: one bar per bin, its count printed above it.

    With ``limit``, bins at or past the limit are drawn red and the limit is marked when it
    falls inside the chart.
    """
    edges: list[int] = list(hist.get("edges") or [])
    counts: list[int] = list(hist.get("counts") or [])
    if not counts:
        return f'<p class="empty">{esc(title)}: no data</p>'
    overflow = hist.get("overflow")
    left, right, top, bottom = 40, 10, 14, 34
    if overflow:
        right = 52  # room for the overflow bar, set apart from the axis
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(counts + ([overflow["count"]] if overflow else [])) or 1
    bar_w = plot_w / len(counts)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" style="max-width:{width}px" role="img" aria-label="{esc(title)}" data-chart="histogram" data-title="{esc(title)}">',
    ]
    for frac in (0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{PALETTE["line"]}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="{PALETTE["muted"]}">{fmt_int(round(peak * frac))}</text>')
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x = left + i * bar_w
        y = top + plot_h - h
        label = f"{edges[i]:,}-{edges[i + 1] - 1:,} tokens: {count:,}"
        over = limit is not None and edges[i] > limit  # every length in the bin is over the limit
        fill = PALETTE["error"] if over else color
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}" fill="{fill}" '
            f'data-value="{count}" data-bin="{edges[i]}-{edges[i + 1]}"><title>{esc(label)}</title></rect>'
        )
        if count and len(counts) <= 30:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="9" text-anchor="middle" fill="{PALETTE["ink"]}">{count:,}</text>')
    base = top + plot_h
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="{PALETTE["muted"]}"/>')
    if limit is not None and edges[0] <= limit <= edges[-1]:
        lx = left + plot_w * (limit - edges[0]) / (edges[-1] - edges[0])
        parts.append(f'<line x1="{lx:.1f}" x2="{lx:.1f}" y1="{top - 4}" y2="{base}" stroke="{PALETTE["error"]}" stroke-dasharray="4 3" data-limit="{limit}"/>')
        anchor = "end" if lx > left + plot_w * 0.7 else "start"
        dx = -4 if anchor == "end" else 4
        parts.append(f'<text x="{lx + dx:.1f}" y="{top + 6}" font-size="10" text-anchor="{anchor}" fill="{PALETTE["error"]}">limit {limit:,}</text>')
    step = max(1, len(counts) // 6)
    for i in range(0, len(edges), step):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{base + 14}" font-size="10" text-anchor="middle" fill="{PALETTE["muted"]}">{edges[i]:,}</text>')
    if overflow:
        count = int(overflow["count"])
        h = plot_h * count / peak
        x = width - right + 14
        w = min(max(bar_w - 2, 8), right - 18)
        fill = PALETTE["error"] if limit is not None and overflow["from"] > limit else color
        label = f"{overflow['from']:,}-{overflow['max']:,} tokens (outliers): {count:,}"
        # Outliers that reach past the model's limit get a red outline even if the bin starts below it.
        straddles = limit is not None and overflow["from"] <= limit < overflow["max"]
        stroke = f' stroke="{PALETTE["error"]}" stroke-width="2" data-over-limit="true"' if straddles else ""
        if straddles:
            label += f"; the {limit:,}-token limit falls in this bin"
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" fill-opacity="0.75"{stroke} '
            f'data-value="{count}" data-bin="{overflow["from"]}+"><title>{esc(label)}</title></rect>'
        )
        parts.append(f'<text x="{x + w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" font-size="9" text-anchor="middle" fill="{PALETTE["ink"]}">{count:,}</text>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{base + 14}" font-size="10" text-anchor="middle" fill="{PALETTE["muted"]}">&#8805;{_short(overflow["from"])}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="10" text-anchor="middle" fill="{PALETTE["muted"]}">tokens</text>')
    parts.append("</svg>")
    return "".join(parts)


def _short(n: int) -> str:
    """A compact axis label: 950, 12k, 1.5M."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g}M"
    if n >= 10_000:
        return f"{n / 1000:.3g}k"
    return f"{n:,}"


def svg_hbars(rows: Sequence[tuple[str, Sequence[tuple[str, int, str]]]], *, width: int = 520, label_w: int = 190,
              title: str = "") -> str:
    """Horizontal stacked bars: ``rows`` of ``(label, [(segment name, value, color), ...])``."""
    if not rows:
        return '<p class="empty">nothing to show</p>'
    bar_h, gap, top = 18, 8, 6
    height = top + len(rows) * (bar_h + gap) + 4
    peak = max(sum(v for _, v, _ in segs) for _, segs in rows) or 1
    plot_w = width - label_w - 60
    parts = [f'<svg viewBox="0 0 {width} {height}" style="max-width:{width}px" role="img" aria-label="{esc(title)}" data-chart="bars" data-title="{esc(title)}">']
    for i, (label, segs) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" font-size="11" text-anchor="end" fill="{PALETTE["ink"]}">{esc(label)}</text>')
        x = float(label_w)
        total = 0
        for name, value, color in segs:
            if value <= 0:
                continue
            w = plot_w * value / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" rx="2" fill="{color}" data-value="{value}" '
                f'data-label="{esc(label)}" data-segment="{esc(name)}"><title>{esc(f"{label} {name}: {value:,}")}</title></rect>'
            )
            x += w
            total += value
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}" font-size="11" fill="{PALETTE["ink"]}">{total:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_share(parts_in: Sequence[tuple[str, int, str]], *, width: int = 520, title: str = "") -> str:
    """One 100% bar split into labelled shares (behavior vs knowledge)."""
    total = sum(v for _, v, _ in parts_in)
    if not total:
        return '<p class="empty">nothing analysed</p>'
    height = 64
    out = [f'<svg viewBox="0 0 {width} {height}" style="max-width:{width}px" role="img" aria-label="{esc(title)}" data-chart="share" data-title="{esc(title)}">']
    x = 0.0
    for name, value, color in parts_in:
        w = width * value / total
        if value:
            out.append(
                f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="30" fill="{color}" data-value="{value}" data-segment="{esc(name)}">'
                f"<title>{esc(f'{name}: {value:,} ({value / total:.0%})')}</title></rect>"
            )
            if w > 60:
                out.append(f'<text x="{x + w / 2:.1f}" y="24" font-size="12" text-anchor="middle" fill="#fff" font-weight="600">{value / total:.0%}</text>')
        x += w
    x = 0.0
    for name, value, color in parts_in:
        out.append(f'<rect x="{x:.1f}" y="46" width="10" height="10" fill="{color}"/>')
        text = f"{name}: {value:,} ({value / total:.0%})"
        out.append(f'<text x="{x + 14:.1f}" y="55" font-size="11" fill="{PALETTE["ink"]}">{esc(text)}</text>')
        x += 14 + len(text) * 6.4 + 18
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- sections


def _tiles(items: Iterable[tuple[str, str, bool]]) -> str:
    cells = "".join(
        f'<div class="tile{" bad" if bad else ""}"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>' for k, v, bad in items
    )
    return f'<div class="tiles">{cells}</div>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = (), row_classes: Sequence[str] | None = None) -> str:
    head = "".join(f'<th class="n">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>" for i, h in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        cls = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        cells = "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def section_verdict(verdict: Mapping[str, Any] | None) -> str:
    if not verdict:
        return ""
    rec = verdict["recommendation"]
    reasons = "".join(f"<li>{esc(r)}</li>" for r in verdict.get("reasons", []))
    cautions = "".join(f"<li>{esc(c)}</li>" for c in verdict.get("cautions", []))
    return (
        '<section class="card" id="verdict"><h2>Fine-tune or RAG?</h2><div class="verdict">'
        f'<div class="badge" style="background:{VERDICT_COLORS.get(rec, PALETTE["accent"])}" data-recommendation="{esc(rec)}">{esc(VERDICT_LABELS.get(rec, rec))}</div>'
        f'<div><p class="head">{esc(verdict["headline"])}</p>'
        + (f"<ul>{reasons}</ul>" if reasons else "")
        + (f'<ul class="cautions">{cautions}</ul>' if cautions else "")
        + "</div></div></section>"
    )


def section_overview(stats: Mapping[str, Any]) -> str:
    tok = stats["tokens"]
    over = stats["over_limit"]
    tiles = [
        ("examples", fmt_int(stats["examples"]), False),
        ("conversations", fmt_int(stats["conversations"]), False),
        ("messages", fmt_int(stats["messages"]["total"]), False),
        (f"tokens ({stats['encoding']}, estimate)", fmt_int(tok["total"]), False),
        ("trainable tokens", fmt_int(tok["trainable"]), False),
        ("median tokens / example", fmt_num(tok["per_example"].get("p50")), False),
        (f"over the {fmt_int(over['limit'])}-token limit" if over["limit"] else "over the limit (no --model)", fmt_int(over["count"]) if over["limit"] else "-", bool(over["count"])),
        ("distinct system prompts", fmt_int(stats["system_prompts"]["distinct"]), False),
    ]
    if stats["problems"]["count"]:
        tiles.append(("unusable lines (not counted)", fmt_int(stats["problems"]["count"]), True))
    if stats["examples_without_trainable_tokens"]:
        tiles.append(("examples with nothing to learn", fmt_int(stats["examples_without_trainable_tokens"]), True))
    return _tiles(tiles)


def section_tokens(stats: Mapping[str, Any], histograms: Mapping[str, Any]) -> str:
    enc = stats["encoding"]
    charts = []
    order = ["example"] + [r for r in ("system", "developer", "user", "assistant", "tool") if r in histograms] + sorted(
        r for r in histograms if r not in ("example", "system", "developer", "user", "assistant", "tool")
    )
    for role in order:
        if role not in histograms:
            continue
        title = "tokens per example" if role == "example" else f"tokens per {role} message"
        limit = stats["over_limit"]["limit"] if role == "example" else None
        chart = svg_histogram(title, histograms[role], ROLE_COLORS.get(role, PALETTE["accent"]), limit=limit)
        charts.append(f'<div class="card chart"><h3>{esc(title)}</h3>{chart}</div>')
    tok = stats["tokens"]
    rows = []
    for name, d in [("per example", tok["per_example"]), ("trainable per example", tok["trainable_per_example"])] + [
        (f"{role} message", d) for role, d in tok["per_message_by_role"].items()
    ]:
        rows.append([esc(name), *[fmt_num(d.get(k)) for k in ("count", "min", "p50", "p90", "p95", "p99", "max", "mean")]])
    table = _table(["", "count", "min", "p50", "p90", "p95", "p99", "max", "mean"], rows, numeric=range(1, 9))
    over = stats["over_limit"]
    over_html = ""
    if over["limit"]:
        if over["count"]:
            listed = "".join(f"<li><code>{esc(e['file'])}:{e['line']}</code> {e['tokens']:,} tokens</li>" for e in over["examples"])
            more = f"<li>... and {over['count'] - len(over['examples']):,} more</li>" if over["count"] > len(over["examples"]) else ""
            over_html = f'<p><strong style="color:{PALETTE["error"]}">{over["count"]:,} examples exceed the {over["limit"]:,}-token limit</strong> (the provider truncates or rejects them):</p><ul>{listed}{more}</ul>'
        else:
            over_html = f'<p>No example exceeds the model\'s {over["limit"]:,}-token limit.</p>'
    return (
        f'<section class="card" id="tokens"><h2>Token lengths <span class="sub">(estimates, {esc(enc)})</span></h2>'
        f'<div class="grid">{"".join(charts)}</div><div style="margin-top:16px">{table}</div>{over_html}'
        f'<p class="note">Trainable tokens are those of assistant messages with <code>weight</code> absent or 1 '
        f'({fmt_int(stats["weight0_assistant_messages"])} assistant messages have weight 0). Percentiles are exact (linear interpolation).</p></section>'
    )


def section_system_prompts(stats: Mapping[str, Any]) -> str:
    sp = stats["system_prompts"]
    if not sp["top"]:
        return ""
    rows = [[fmt_int(e["examples"]), fmt_pct(e["share"]), f"<code>{esc(e['preview'][:140])}</code>"] for e in sp["top"]]
    return (
        f'<section class="card" id="system-prompts"><h2>System prompts</h2><p>{sp["distinct"]:,} distinct system prompts in '
        f'{sp["examples_with_system_prompt"]:,} examples. A dataset that teaches one behavior usually has one.</p>'
        + _table(["examples", "share", "system prompt (start)"], rows, numeric=(0, 1))
        + "</section>"
    )


def section_lint(lint: Mapping[str, Any] | None) -> str:
    if not lint:
        return ""
    if not lint.get("available"):
        return f'<section class="card" id="lint"><h2>Lint findings</h2><p class="empty">Not available: {esc(lint.get("reason", ""))}</p></section>'
    by_code = lint.get("by_code", {})
    if not by_code:
        return '<section class="card" id="lint"><h2>Lint findings</h2><p>No findings.</p></section>'
    rows = []
    for code, entry in by_code.items():
        label = f"{code} {entry.get('name') or ''}".strip()
        rows.append((label, [(sev, int(entry.get(sev, 0)), PALETTE[sev]) for sev in ("error", "warning", "info")]))
    rows.sort(key=lambda r: (-sum(v for _, v, _ in r[1]), r[0]))
    totals = {sev: sum(int(e.get(sev, 0)) for e in by_code.values()) for sev in ("error", "warning", "info")}
    legend = "".join(f'<span style="--c:{PALETTE[s]}">{s}: {totals[s]:,}</span>' for s in ("error", "warning", "info"))
    consistency = lint.get("behavior_consistency")
    cons = (
        f'<p>Behavior consistency: <strong>{fmt_pct(consistency)}</strong> of examples have no voice/format (V) or quality (Q) finding '
        f'({fmt_int(lint.get("examples_with_voice_or_quality_findings"))} of {fmt_int(lint.get("examples"))} have one).</p>'
        if consistency is not None
        else ""
    )
    return (
        f'<section class="card" id="lint"><h2>Lint findings by rule and severity</h2>{cons}'
        f'{svg_hbars(rows[:25], title="lint findings by rule")}<div class="legend">{legend}</div>'
        + (f'<p class="note">{len(rows) - 25} more rules not drawn.</p>' if len(rows) > 25 else "")
        + "</section>"
    )


def section_knowledge(knowledge: Mapping[str, Any] | None) -> str:
    if not knowledge:
        return ""
    if not knowledge.get("available"):
        return f'<section class="card" id="knowledge"><h2>Behavior vs knowledge</h2><p class="empty">Not available: {esc(knowledge.get("reason", ""))}</p></section>'
    chart = svg_share(
        [("behavior", int(knowledge["behavior"]), PALETTE["behavior"]), ("knowledge", int(knowledge["knowledge"]), PALETTE["knowledge"])],
        title="behavior vs knowledge examples",
    )
    facts = knowledge.get("top_facts") or []
    table = (
        _table(
            ["fact", "kind", "examples", "mentions"],
            [[f"<code>{esc(f['value'])}</code>", esc(f["kind"]), fmt_int(f["examples"]), fmt_int(f["mentions"])] for f in facts],
            numeric=(2, 3),
        )
        if facts
        else '<p class="empty">No fact is taught in more than one example.</p>'
    )
    return (
        f'<section class="card" id="knowledge"><h2>Behavior vs knowledge</h2>'
        f'<p>{knowledge["knowledge"]:,} of {knowledge["analysed"]:,} examples ({fmt_pct(knowledge["knowledge_share"])}) state facts '
        f'(prices, policies, plan names, URLs, account data) their context does not contain: that is knowledge injection, better served by RAG.</p>'
        f"{chart}<h3 style=\"margin-top:14px\">Most repeated facts</h3>{table}</section>"
    )


def _split_count(entry: Mapping[str, Any]) -> int | None:
    for key in ("examples", "count", "n_examples", "records", "size", "n"):
        value = entry.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return None


def _strata_of(strata: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Strata as ``{label: number}``: counts (``{"chat": {"examples": 12}}`` or ``{"chat": 12}``)
    or shares (``{"channel": {"chat": 0.6}}``); nested fields become ``field=value`` labels."""
    out: dict[str, float] = {}
    for key, value in strata.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            count = _split_count(value)
            if count is not None:
                out[name] = float(count)
            else:
                out.update(_strata_of(value, name + "="))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def normalize_manifest(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Splits from a ``split_manifest.json`` as ``[{name, examples, groups, tokens, fraction, target, strata}]``.

    Reads ``ftkit split``'s manifest (``{"splits": {"train": {"examples", "groups", "fraction",
    "target", "tokens": {"total"}, "strata": {"chat": {"examples"}}}}}``) and simpler shapes:
    ``{"splits": [{"name": "train", "count": n}]}`` or a top-level mapping of split name to entry.
    """
    splits = manifest.get("splits", manifest)
    items: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(splits, Mapping):
        items = [(str(k), v) for k, v in splits.items() if isinstance(v, Mapping)]
    elif isinstance(splits, list):
        items = [(str(v.get("name", f"split{i}")), v) for i, v in enumerate(splits) if isinstance(v, Mapping)]
    out = []
    for name, entry in items:
        count = _split_count(entry)
        if count is None:
            continue
        tokens = entry.get("tokens")
        if isinstance(tokens, Mapping):
            tokens = tokens.get("total")

        def number(key: str) -> float | None:
            value = entry.get(key)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        out.append(
            {
                "name": name,
                "examples": count,
                "groups": entry.get("groups") if isinstance(entry.get("groups"), int) else None,
                "tokens": tokens if isinstance(tokens, (int, float)) else None,
                "fraction": number("fraction"),
                "target": number("target"),
                "strata": _strata_of(entry["strata"]) if isinstance(entry.get("strata"), Mapping) else {},
            }
        )
    return out


def section_splits(manifest: Mapping[str, Any] | None) -> str:
    if manifest is None:
        return ""
    splits = normalize_manifest(manifest)
    if not splits:
        return '<section class="card" id="splits"><h2>Splits</h2><p class="empty">The manifest lists no splits with counts.</p></section>'
    colors = ["#3b6fd8", "#2f855a", "#d97706", "#7b61c9", "#2b8a9e"]
    chart = svg_hbars([(s["name"], [("examples", s["examples"], colors[i % len(colors)])]) for i, s in enumerate(splits)],
                      title="examples per split", width=440, label_w=110)
    total = sum(s["examples"] for s in splits) or 1

    def share(s: Mapping[str, Any]) -> str:
        text = fmt_pct(s["fraction"] if s["fraction"] is not None else s["examples"] / total)
        if s["target"] is not None:
            text += f" (target {fmt_pct(s['target'])})"
        return text

    rows = [[esc(s["name"]), fmt_int(s["examples"]), share(s), fmt_int(s["groups"]), fmt_int(s["tokens"])] for s in splits]
    table = _table(["split", "examples", "share", "groups", "tokens"], rows, numeric=(1, 2, 3, 4))
    labels = sorted({k for s in splits for k in s["strata"]})
    strata_html = ""
    if labels:
        srows = []
        for label in labels[:40]:
            cells = []
            for s in splits:
                value = s["strata"].get(label)
                if value is None:
                    cells.append("-")
                elif value <= 1 and not float(value).is_integer():
                    cells.append(fmt_pct(value))  # already a share of the split
                else:
                    cells.append(f"{fmt_int(value)} ({fmt_pct(value / s['examples'] if s['examples'] else 0)})")
            srows.append([esc(label), *cells])
        strata_html = ('<h3 style="margin-top:14px">Strata (examples, share of the split)</h3>'
                       + _table(["stratum", *[esc(s["name"]) for s in splits]], srows, numeric=range(1, len(splits) + 1)))
    options = manifest.get("options") if isinstance(manifest.get("options"), Mapping) else None
    opts = ""
    if options:
        shown = {k: v for k, v in sorted(options.items()) if v not in (None, [], {}, "")}
        def show(value: Any) -> str:
            return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)

        opts = '<p class="note">options: ' + ", ".join(f"<code>{esc(k)}={esc(show(v))}</code>" for k, v in shown.items()) + "</p>"
    return f'<section class="card" id="splits"><h2>Splits</h2><div class="grid"><div>{chart}</div><div>{table}</div></div>{strata_html}{opts}</section>'


def section_cost(cost: Mapping[str, Any] | None, picked: tuple[str, str] | None = None) -> str:
    if not cost:
        return ""
    lines = cost.get("lines", [])
    if not lines:
        return ""
    rows, classes = [], []
    for line in lines:
        epochs = str(line["epochs"]) + {"provider-auto": " (auto)", "assumed": " (assumed)", "user": " (yours)"}.get(line["epochs_source"], "")
        training = fmt_usd(line["training_cost_usd"]) + (" (minimum)" if line["minimum_applied"] else "")
        inference = "-" if line["inference_input_per_1m"] is None else f"{line['inference_input_per_1m']:g} / {line['inference_output_per_1m']:g}"
        extra = []
        if line["hosting_per_hour_usd"]:
            extra.append(f"hosting ${line['hosting_per_hour_usd']:g}/h")
        if line["storage_per_month_usd"]:
            extra.append(f"storage ${line['storage_per_month_usd']:g}/mo")
        rows.append([esc(line["provider_name"]), f"<code>{esc(line['model'])}</code>", esc(epochs), fmt_int(line["billed_tokens"]),
                     f"{line['training_price_per_1m']:g}", training, inference, esc(", ".join(extra))])
        classes.append("pick" if picked and (line["provider"], line["model"]) == picked else "")
    enc = lines[0]["encoding"]
    return (
        f'<section class="card" id="cost"><h2>Training cost per provider</h2>'
        + _table(["provider", "model", "epochs", "billed tokens", "$/1M train", "training", "tuned $/1M in / out", "other"], rows,
                 numeric=(3, 4, 5, 6), row_classes=classes)
        + f'<p class="note">Estimates: billed tokens = tokens in the file ({esc(enc)}, not each provider\'s tokenizer) x epochs; '
        f'OpenAI counts an example as at most the model\'s limit. Epochs: each provider\'s documented default or auto rule, '
        f'"assumed" where none is documented. Prices as of {esc(cost.get("as_of"))}: {esc(cost.get("notice", ""))}</p></section>'
    )


def _per_thousand(value: Any) -> str:
    return "-" if value is None else fmt_usd(float(value) * 1000)


def _days(days: float) -> str:
    if days < 1:
        return f"{days * 24:,.1f} hours"
    return f"{days:,.1f} days"


def section_economics(econ: Mapping[str, Any] | None) -> str:
    if not econ:
        return ""
    rows = [
        ["provider / model", esc(f"{econ['provider']} / {econ['model']}")],
        ["training run", fmt_usd(econ["training_cost_usd"])],
        ["prompt tokens per request that remain (P)", fmt_num(econ["prompt_tokens_per_request"])],
        ["prompt tokens saved by fine-tuning (S)", fmt_num(econ["prompt_tokens_saved"])],
        ["output tokens per request (O)", fmt_num(econ["output_tokens_per_request"])],
        ["requests per day (R)", fmt_num(econ["requests_per_day"])],
        ["base model, per 1,000 requests: (P+S) x in + O x out", _per_thousand(econ["base_cost_per_request_usd"])],
        ["fine-tuned model, per 1,000 requests: P x in + O x out", _per_thousand(econ["tuned_cost_per_request_usd"])],
        ["hosting per day", fmt_usd(econ["hosting_per_day_usd"])],
        ["saving per day", fmt_usd(econ["daily_saving_usd"])],
        ["break-even", "never" if econ["break_even_days"] is None else _days(econ["break_even_days"])],
        [f"RAG tokens added per request ({esc(econ['rag_tokens_source'])})", fmt_num(econ["rag_tokens_per_request"])],
        ["RAG cost per day on the base model", fmt_usd(econ["rag_cost_per_day_base_usd"])],
    ]
    notes = "".join(f"<li>{esc(n)}</li>" for n in econ.get("notes", []))
    return (
        '<section class="card" id="economics"><h2>Break-even: fine-tuning vs a long prompt</h2>'
        + _table(["", "value"], rows, numeric=(1,))
        + (f'<ul class="note">{notes}</ul>' if notes else "")
        + "</section>"
    )


def _schemeless(url: str) -> str:
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return url[len(scheme):]
    return url


def render_html(data: Mapping[str, Any]) -> str:
    """Render report data (see :func:`toolkit.report.build.build_report`) as one HTML page."""
    stats = data["stats"]
    verdict = data.get("verdict")
    title = data.get("title") or "ftkit dataset report"
    files = ", ".join(stats["files"])
    econ = verdict.get("economics") if verdict else None
    picked = (econ["provider"], econ["model"]) if econ else None
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">{esc(files)} · {stats["examples"]:,} examples · token figures are estimates ({esc(stats["encoding"])})'
        + (f" · model {esc(stats['model'])}" if stats.get("model") else "")
        + "</p>",
        section_verdict(verdict),
        section_overview(stats),
        section_tokens(stats, data.get("histograms", {})),
        section_knowledge(verdict.get("knowledge") if verdict else None),
        section_lint(verdict.get("lint") if verdict else None),
        section_system_prompts(stats),
        section_splits(data.get("manifest")),
        section_cost(data.get("cost"), picked),
        section_economics(econ),
    ]
    sources = data.get("cost", {}).get("provider_sources", {}) if data.get("cost") else {}
    # Printed without the scheme: the page holds no http(s) reference at all.
    src = "; ".join(f"{esc(p)}: {esc(' '.join(_schemeless(u) for u in urls))}" for p, urls in sorted(sources.items()))
    footer = (
        f"<footer>Generated by ftkit {esc(data.get('version', ''))}. Price sources: {src}</footer>"
        if src
        else f"<footer>Generated by ftkit {esc(data.get('version', ''))}.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}{footer}</main></body></html>\n"
    )
