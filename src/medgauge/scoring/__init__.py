from medgauge.scoring.base import Judgement, Scorer, default_scorer, get_scorer, scorers

__all__ = ["Judgement", "Scorer", "default_scorer", "get_scorer", "scorers"]
