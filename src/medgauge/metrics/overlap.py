"""Per-item string-overlap metrics of open answers, as means with a bootstrap interval: token F1,
exact match and BLEU-1 of the normalised answer against the gold (metrics/text.py computes
them per item when the open-answer rule scores; SQuAD's token F1, Rajpurkar et al. 2016)."""

from __future__ import annotations

from medgauge.metrics.base import MeanMetric, register

TOKEN_F1 = register(MeanMetric("token_f1", "f1",
                               description="SQuAD-style token F1 of open answers vs the gold"))
EXACT = register(MeanMetric("exact_match", "exact",
                            description="normalised exact match of open answers"))
BLEU1 = register(MeanMetric("bleu1", "bleu1", description="BLEU-1 of open answers vs the gold"))
