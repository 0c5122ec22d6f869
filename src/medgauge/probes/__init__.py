"""Reliability probes: solvers that perturb samples, and their paired metrics.

Importing this package registers every probe module of the package (adding a probe is one
file) in ``medgauge.runner.solver.solvers``:
``blind``, ``pairs``, ``leading``, ``followup``, ``permute``, ``perturb``, ``mismatch``,
``confidence`` and ``overreliance`` (docs/probes.md explains each).  ``probe_summary`` gives one
probe run's headline metric with its interval and the clean score it is paired with;
``print_trust_profile`` prints them for the terminal.
"""

from __future__ import annotations

from medgauge.probes.common import Probe, ProbeResult
from medgauge.probes.summary import (
    find_clean_run,
    print_trust_profile,
    probe_summary,
    summarize_items,
)
from medgauge.registry import import_submodules

import_submodules(__name__, list(__path__))  # every probe module registers itself

__all__ = [
    "Probe",
    "ProbeResult",
    "find_clean_run",
    "print_trust_profile",
    "probe_summary",
    "summarize_items",
]
