"""Know a dataset before paying for it: statistics, training cost, the fine-tune-or-RAG verdict, HTML report."""

from toolkit.report.cost import PriceTable, cost_table, load_prices, openai_auto_epochs, training_cost
from toolkit.report.stats import DatasetStats, Distribution, compute_stats, stats_of_records

__all__ = [
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
