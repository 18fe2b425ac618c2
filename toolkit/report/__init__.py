"""Know a dataset before paying for it: statistics, training cost, the fine-tune-or-RAG verdict, HTML report."""

from toolkit.report.cost import PriceTable, cost_table, load_prices, openai_auto_epochs, training_cost
from toolkit.report.stats import DatasetStats, Distribution, compute_stats, stats_of_records


def build_report(*args, **kwargs):  # noqa: ANN002, ANN003 - thin lazy wrapper, see toolkit.report.build
    """Compute a report's data (stats, cost, knowledge, lint, verdict); see :func:`toolkit.report.build.build_report`."""
    from toolkit.report.build import build_report as _build

    return _build(*args, **kwargs)


def render_html(data):  # noqa: ANN001
    """Render report data as one self-contained HTML page; see :func:`toolkit.report.html.render_html`."""
    from toolkit.report.html import render_html as _render

    return _render(data)

__all__ = [
    "build_report",
    "render_html",
    "DatasetStats",
    "Distribution",
    "PriceTable",
    "compute_stats",
    "cost_table",
    "load_prices",
    "openai_auto_epochs",
    "stats_of_records",
    "training_cost",
]
