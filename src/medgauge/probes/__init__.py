"""Reliability probes: solvers that perturb samples, and their paired metrics.

Importing this package registers every probe in ``medgauge.runner.solver.solvers``:
``blind``, ``pairs``, ``leading``, ``followup``, ``permute``, ``perturb``, ``mismatch`` and
``confidence`` (docs/probes.md explains each).  ``probe_summary`` gives one probe run's headline
metric with its interval and the clean score it is paired with; ``print_trust_profile`` prints
them for the terminal.
"""

from __future__ import annotations

from medgauge.probes import (  # noqa: F401 - registers the probes
    blind,
    confidence,
    followup,
    leading,
    mismatch,
    pairs,
    permute,
    perturb,
)
from medgauge.probes.common import Probe, ProbeResult
from medgauge.probes.summary import (
    find_clean_run,
    print_trust_profile,
    probe_summary,
    summarize_items,
)

__all__ = [
    "Probe",
    "ProbeResult",
    "find_clean_run",
    "print_trust_profile",
    "probe_summary",
    "summarize_items",
]
