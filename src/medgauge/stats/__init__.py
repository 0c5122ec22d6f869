"""Statistics: intervals, paired tests, multiple-comparison correction, calibration.

Pure functions over numpy arrays / lists; numpy only (no scipy at run time).
See docs/statistics.md for the conventions.
"""

from medgauge.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    BootstrapCI,
    bootstrap_mean,
    bootstrap_proportion,
)
from medgauge.stats.calibration import (
    ReliabilityBin,
    auroc,
    brier,
    ece,
    overconfidence_rate,
    reliability,
)
from medgauge.stats.clustered import clustered_proportion, design_effect
from medgauge.stats.join import Joined, join_by_id
from medgauge.stats.macro import MacroAverage, macro_average
from medgauge.stats.multiple import holm, holm_reject
from medgauge.stats.paired import (
    PairedComparison,
    mcnemar_exact,
    outcome,
    paired_bootstrap,
    paired_compare,
    win_tie_loss,
)
from medgauge.stats.proportion import Proportion, proportion, proportion_of, wilson

__all__ = [
    "DEFAULT_RESAMPLES",
    "BootstrapCI",
    "Joined",
    "MacroAverage",
    "PairedComparison",
    "Proportion",
    "ReliabilityBin",
    "auroc",
    "bootstrap_mean",
    "bootstrap_proportion",
    "brier",
    "clustered_proportion",
    "design_effect",
    "ece",
    "holm",
    "holm_reject",
    "join_by_id",
    "macro_average",
    "mcnemar_exact",
    "outcome",
    "overconfidence_rate",
    "paired_bootstrap",
    "paired_compare",
    "proportion",
    "proportion_of",
    "reliability",
    "wilson",
    "win_tie_loss",
]
