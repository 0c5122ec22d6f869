"""Per-item values that model-graded scorers store (scoring/grader.py): a rubric's grade and a
jury's share of graders saying correct, as means with a bootstrap interval.  An unreadable grade
is not a grade: ``grade`` leaves invalid items out rather than counting them as 0."""

from __future__ import annotations

from medgauge.metrics.base import MeanMetric, register

GRADE = register(MeanMetric("grade", "grade", scale=1.0, missing_as_zero=False,
                            description="mean rubric grade (1-5) given by a grader model"))
JURY_MEAN = register(MeanMetric("jury_mean", "jury_mean",
                                description="mean share of jury graders that judge the answer "
                                            "correct"))
