"""Scoring modes.  Importing this package registers every built-in mode."""

from medgauge.scoring import medevalkit, mediconfusion, mmstar, multimedeval, vlmevalkit
from medgauge.scoring.base import (
    Judgement,
    Rule,
    RuleScorer,
    ScoreContext,
    Scorer,
    describe,
    get_scorer,
    register,
    scorers,
    versions,
)
from medgauge.scoring.default import default_scorer

__all__ = [
    "Judgement",
    "Rule",
    "RuleScorer",
    "ScoreContext",
    "Scorer",
    "default_scorer",
    "describe",
    "get_scorer",
    "medevalkit",
    "mediconfusion",
    "mmstar",
    "multimedeval",
    "register",
    "scorers",
    "versions",
    "vlmevalkit",
]
