"""``green``: the mean GREEN score of generated reports (``--scoring green``, scoring/green.py;
Ostmeier et al. 2024), with a bootstrap interval.  A report whose grader reply could not be read
is left out (an unparseable grade is not a grade); an empty generated report scores 0."""

from __future__ import annotations

from medgauge.metrics.base import MeanMetric, register

GREEN = register(MeanMetric("green", "green", missing_as_zero=False,
                            description="mean GREEN score of generated reports (grader model)"))
