"""Metrics over scored items (``metrics/base.py``: the protocol, ``grouped``); importing the
package registers every metric module in it, so adding a metric is one file."""

from medgauge.metrics.accuracy import ACCURACY, accuracy
from medgauge.metrics.base import (
    CorpusMetric,
    Estimate,
    MeanMetric,
    Metric,
    get_metric,
    grouped,
    metrics,
    register,
    run_metrics,
)
from medgauge.registry import import_submodules

import_submodules(__name__, list(__path__))

__all__ = [
    "ACCURACY",
    "CorpusMetric",
    "Estimate",
    "MeanMetric",
    "Metric",
    "accuracy",
    "get_metric",
    "grouped",
    "metrics",
    "register",
    "run_metrics",
]
