"""Report-generation text metrics as the radiology report-generation literature computes them.

BLEU-1..4 (Papineni et al. 2002), METEOR 1.5 (Denkowski & Lavie 2014), ROUGE-L (Lin 2004) and
CIDEr (Vedantam et al. 2015), all through the ``pycocoevalcap`` package (optional extra
``report``; METEOR and the PTB tokenizer run Java).  Corpus level: BLEU from the n-gram counts
summed over all reports with the "closest" reference length, METEOR from its summed statistics,
ROUGE-L and CIDEr as the mean over reports (CIDEr's document frequencies from all references).

Text conventions (the default ``tokenizer="r2gen"``): R2Gen (Chen et al., EMNLP 2020,
github.com/zhjohnchan/R2Gen, ``modules/tokenizers.py`` and ``modules/metrics.py``) and the many
papers built on its code clean generated and reference reports alike with ``clean_report_iu_xray``
or ``clean_report_mimic_cxr`` and hand the cleaned, space-joined token strings to
pycocoevalcap's ``Bleu(4)``, ``Meteor()`` and ``Rouge()`` (``Cider()`` in later papers) without
the PTB tokenizer.  The cleaning rules, reimplemented here from their description:

``iu_xray``: (1) replace ".." by "." three times; (2) drop "1. "; (3) replace ". 2. " ... ". 5. "
and then " 2. " ... " 5. " by ". "; (4) strip, lower-case and split into sentences on ". ";
(5) in each sentence drop the characters ``" / \\ '`` and every character of the regex class
``[.,?;*!%^&_+():-\\[\\]{}]`` -- note that ``:-\\[`` in that class is a range, so it removes
``: ; < = > ? @ [`` and the upper-case letters but NOT the hyphen; (6) join the sentences with
" . " and append " .".  ``mimic_cxr`` first replaces newlines by spaces, collapses "__" to "_"
(7 passes) and double spaces (6 passes), replaces ".." by "." eight times, then applies (2)-(6).
R2Gen then splits the result on whitespace, so the text scored here is
``" ".join(clean(report).split())`` (an empty report becomes ".").  One addition: the literal
token ``<unk>`` (R2Gen's unknown word, in its decoded references and its models' outputs) is
kept as it is, where R2Gen's rules would make it "unk"; R2Gen itself never cleans decoded text.

R2Gen's own test loop scores *decoded* references: words seen fewer than ``threshold`` times in
the training reports become ``<unk>`` and references are cut to ``max_seq_length - 1`` tokens
(IU X-ray: threshold 3, 59 tokens; MIMIC-CXR: threshold 10, 99 tokens; its ``train_*.sh``).
``r2gen_vocabulary`` and ``r2gen_reference`` reproduce that for users who need tables from that
code base; by default references are only cleaned.

``tokenizer="ptb"`` is the MS-COCO caption convention instead: pycocoevalcap's Stanford PTB
tokenizer (lower-case, punctuation tokens removed) on both sides, after the cleaning if any.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medgauge.types import MedgaugeError

BLEU = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4")
COCO_METRICS: tuple[str, ...] = (*BLEU, "METEOR", "ROUGE-L", "CIDEr")
CLEANINGS = ("iu_xray", "mimic_cxr")
TOKENIZERS = ("r2gen", "ptb")
JAVA_HINT = ("install a Java runtime (Debian/Ubuntu: apt-get install default-jre-headless); "
             "METEOR and the PTB tokenizer run Java")

# --------------------------------------------------------------------------------------------
# R2Gen report cleaning (rules listed in the module docstring; our own code).
# --------------------------------------------------------------------------------------------

_NUMBERING = (("1. ", ""), (". 2. ", ". "), (". 3. ", ". "), (". 4. ", ". "), (". 5. ", ". "),
              (" 2. ", ". "), (" 3. ", ". "), (" 4. ", ". "), (" 5. ", ". "))
_IU_PREFIX = ((("..", "."),) * 3)
_MIMIC_PREFIX = (("\n", " "),) + (("__", "_"),) * 7 + (("  ", " "),) * 6 + (("..", "."),) * 8
# R2Gen's character class [.,?;*!%^&_+():-\[\]{}] written out: ":-\[" is the range 0x3A-0x5B.
_DROP_CLASS = re.compile(r"[.,?;*!%^&_+()\x3a-\x5b\]{}]")
_DROP_CHARS = str.maketrans("", "", "\"/\\'")


_UNK, _UNK_SLOT = "<unk>", "\x00unk\x00"


def _clean(report: str, prefix: tuple[tuple[str, str], ...]) -> str:
    # R2Gen's own "<unk>" token (in decoded references and R2Gen-family outputs) is kept whole;
    # R2Gen never cleans decoded text, and its rules would turn it into "unk".
    text = report.replace(_UNK, _UNK_SLOT)
    for old, new in prefix + _NUMBERING:
        text = text.replace(old, new)
    sentences = text.strip().lower().split(". ")
    cleaned = [_DROP_CLASS.sub("", s.translate(_DROP_CHARS).strip().lower()) for s in sentences]
    return (" . ".join(cleaned) + " .").replace(_UNK_SLOT, _UNK)


def clean_report_iu_xray(report: str) -> str:
    """R2Gen's IU X-ray cleaning (rules in the module docstring), exactly, before tokenising."""
    return _clean(report, _IU_PREFIX)


def clean_report_mimic_cxr(report: str) -> str:
    """R2Gen's MIMIC-CXR cleaning (newlines, underscores, spaces, then the IU rules)."""
    return _clean(report, _MIMIC_PREFIX)


def clean_report(report: str, cleaning: str | None = "iu_xray") -> str:
    """The text R2Gen scores: the cleaned report re-joined on single spaces.
    ``cleaning=None`` only collapses whitespace."""
    if cleaning is None:
        return " ".join(report.split())
    if cleaning == "iu_xray":
        text = clean_report_iu_xray(report)
    elif cleaning == "mimic_cxr":
        text = clean_report_mimic_cxr(report)
    else:
        raise MedgaugeError(f"unknown report cleaning {cleaning!r} (known: "
                            f"{', '.join(CLEANINGS)}, or none)")
    return " ".join(text.split())


def _tokenised(report: str) -> bool:
    """Already in R2Gen's decoded form: only lower-case tokens the cleaning keeps, "." alone."""
    for token in report.split():
        if token in (".", _UNK):
            continue
        if (token != token.lower() or _DROP_CLASS.search(token)
                or token.translate(_DROP_CHARS) != token):
            return False
    return True


def clean_generated(report: str, cleaning: str | None = "iu_xray") -> str:
    """A generated report as scored: one already in R2Gen's decoded form (an R2Gen-family
    model's output, possibly cut without a final " .") is kept as it is, since R2Gen scores its
    decoded outputs uncleaned; any other text is cleaned like a reference (``clean_report``).
    Idempotent: cleaning a cleaned or decoded report changes nothing."""
    if cleaning is not None and report.strip() and _tokenised(report):
        return " ".join(report.split())
    return clean_report(report, cleaning)


def r2gen_vocabulary(cleaned_reports: Sequence[str], threshold: int) -> frozenset[str]:
    """Words seen at least ``threshold`` times in cleaned training reports (R2Gen's
    ``Tokenizer.create_vocabulary``; IU X-ray 3, MIMIC-CXR 10)."""
    from collections import Counter

    counts = Counter(w for r in cleaned_reports for w in r.split())
    return frozenset(w for w, c in counts.items() if c >= threshold)


def r2gen_reference(cleaned: str, vocabulary: frozenset[str] | None = None,
                    max_tokens: int | None = None) -> str:
    """A cleaned reference as R2Gen's decoder returns it: unknown words as ``<unk>`` and at
    most ``max_tokens`` tokens (``max_seq_length - 1``: 59 for IU X-ray, 99 for MIMIC-CXR)."""
    words = cleaned.split()
    if vocabulary is not None:
        words = [w if w in vocabulary else "<unk>" for w in words]
    if max_tokens is not None:
        words = words[:max_tokens]
    return " ".join(words)


def is_r2gen_output(reports: Sequence[str], cleaning: str = "iu_xray",
                    max_tokens: int = 60) -> bool:
    """Whether generated reports look like an R2Gen-code-base decoder's output: every report
    already in R2Gen's cleaned, space-tokenised form (cleaning changes nothing) and at most
    ``max_tokens`` tokens (``max_seq_length``: 60 for IU X-ray, 100 for MIMIC-CXR).  Free-text
    reports (capitals, punctuation glued to words) are not."""
    return bool(reports) and all(
        bool(r.strip()) and len(r.split()) <= max_tokens and _tokenised(r) for r in reports)


# --------------------------------------------------------------------------------------------
# pycocoevalcap access
# --------------------------------------------------------------------------------------------


def _coco(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(f"pycocoevalcap.{module}")
    except ImportError:
        raise MedgaugeError("report metrics need pycocoevalcap: pip install 'medgauge[report]'"
                            ) from None


class MeteorProcess:
    """pycocoevalcap's METEOR 1.5 Java process, started once and closed explicitly.

    ``statistics(hyp, refs)`` asks the jar for one segment's sufficient statistics (its SCORE
    command); ``evaluate(stats)`` sends one EVAL line and returns (per-segment scores, corpus
    score), the corpus score being computed by METEOR from the summed statistics -- exactly what
    ``Meteor.compute_score`` does, split in two so that a bootstrap can re-aggregate the same
    statistics without re-aligning any text.
    """

    def __init__(self) -> None:
        meteor = _coco("meteor.meteor")
        try:
            self._meteor = meteor.Meteor()
        except FileNotFoundError:
            raise MedgaugeError(f"METEOR: no 'java' found; {JAVA_HINT}") from None

    def statistics(self, hypothesis: str, references: Sequence[str]) -> str:
        with self._meteor.lock:
            stat = self._meteor._stat(hypothesis, list(references))
        if not stat:
            raise MedgaugeError(f"METEOR: the Java process stopped; {JAVA_HINT}")
        return stat

    def evaluate(self, stats: Sequence[str]) -> tuple[list[float], float]:
        proc = self._meteor.meteor_p
        with self._meteor.lock:
            proc.stdin.write(("EVAL ||| " + " ||| ".join(stats) + "\n").encode())
            proc.stdin.flush()
            lines = [proc.stdout.readline() for _ in range(len(stats) + 1)]
        try:
            values = [float(x) for x in lines]
        except ValueError:
            raise MedgaugeError(f"METEOR: unexpected output from the Java process; {JAVA_HINT}"
                                ) from None
        return values[:-1], values[-1]

    def close(self) -> None:
        proc = self._meteor.meteor_p
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def meteor_process() -> Iterator[MeteorProcess]:
    proc = MeteorProcess()
    try:
        yield proc
    finally:
        proc.close()


def ptb_tokenize(texts: Sequence[str]) -> list[str]:
    """pycocoevalcap's Stanford PTB tokenizer (lower-cases, drops punctuation tokens)."""
    tokenizer = _coco("tokenizer.ptbtokenizer")
    captions = {i: [{"caption": t}] for i, t in enumerate(texts)}
    try:
        out = tokenizer.PTBTokenizer().tokenize(captions)
    except FileNotFoundError:
        raise MedgaugeError(f"PTB tokenizer: no 'java' found; {JAVA_HINT}") from None
    except OSError as exc:  # it writes a temporary file beside its jar
        raise MedgaugeError(f"PTB tokenizer: cannot run ({exc.strerror}); the pycocoevalcap "
                            "install folder must be writable") from None
    return [out[i][0] for i in range(len(texts))]


# --------------------------------------------------------------------------------------------
# Corpus scores, per-report values and resampling
# --------------------------------------------------------------------------------------------


def prepare_texts(predictions: Sequence[str], references: Sequence[Sequence[str]], *,
                  cleaning: str | None = "iu_xray", tokenizer: str = "r2gen",
                  references_cleaned: bool = False) -> tuple[list[str], list[list[str]]]:
    """Cleaned (and, for ``tokenizer="ptb"``, PTB-tokenised) predictions and references.

    ``predictions``: one generated report per item; ``references``: one or more reference
    reports per item.  ``references_cleaned``: the references are already in scoring form
    (e.g. ``r2gen_reference`` output, whose ``<unk>`` a second cleaning would damage) and only
    their whitespace is collapsed.  Errors: lengths differ, an item without references,
    unknown options."""
    if len(predictions) != len(references):
        raise MedgaugeError(f"report metrics: {len(predictions)} predictions for "
                            f"{len(references)} reference lists")
    if tokenizer not in TOKENIZERS:
        raise MedgaugeError(f"unknown tokenizer {tokenizer!r} (known: {', '.join(TOKENIZERS)})")
    refs: list[list[str]] = []
    for i, r in enumerate(references):
        if isinstance(r, str) or not r:
            raise MedgaugeError(f"report metrics: item {i} needs a non-empty list of references")
        refs.append([clean_report(x or "", None if references_cleaned else cleaning)
                     for x in r])
    preds = [clean_generated(p or "", cleaning) for p in predictions]
    if tokenizer == "ptb":
        flat = ptb_tokenize(preds + [x for r in refs for x in r])
        preds, rest = flat[:len(preds)], iter(flat[len(preds):])
        refs = [[next(rest) for _ in r] for r in refs]
    return preds, refs


def _bleu_from_totals(totals: np.ndarray, n: int = 4) -> np.ndarray:
    """Corpus BLEU-1..n from summed statistics, as pycocoevalcap's ``BleuScorer.compute_score``
    (its 1e-15/1e-9 guards included).  ``totals``: (..., 2 + 2n) = testlen, reflen, guess_1..n,
    correct_1..n.  Returns (..., n)."""
    tiny, small = 1e-15, 1e-9
    testlen, reflen = totals[..., 0], totals[..., 1]
    guess, correct = totals[..., 2:2 + n], totals[..., 2 + n:2 + 2 * n]
    log_p = np.log((correct + tiny) / (guess + small))
    orders = np.arange(1, n + 1)
    bleu = np.exp(np.cumsum(log_p, axis=-1) / orders)
    ratio = (testlen + tiny) / (reflen + small)
    penalty = np.where(ratio < 1, np.exp(1 - 1 / np.minimum(ratio, 1.0)), 1.0)
    return bleu * penalty[..., None]


# METEOR 1.5's parameters for English, its default task (Denkowski & Lavie 2014, "Meteor
# Universal", WMT): alpha, beta, gamma, delta and the exact/stem/synonym/paraphrase weights.
METEOR_EN = {"alpha": 0.85, "beta": 0.20, "gamma": 0.60, "delta": 0.75,
             "weights": (1.0, 0.6, 0.8, 0.6)}


def meteor_from_statistics(stats: np.ndarray) -> float:
    """Corpus METEOR from per-segment statistics, as the METEOR 1.5 jar aggregates them.

    ``stats``: (segments, 23) as the jar prints them (test/ref length, test/ref function words,
    per stage test/ref content and function matches for 4 stages, chunks, test/ref word
    matches).  The jar sums the segments' statistics, except that a segment matched completely
    in one chunk adds no chunks, then computes ``Fmean * (1 - gamma * frag ** beta)`` with
    ``frag = chunks / mean word matches``.  Written here (checked against the jar in the tests)
    so that a bootstrap re-aggregates statistics without a Java round trip per resample."""
    s = np.asarray(stats, dtype=float)
    stages = s[:, 4:20].reshape(-1, 4, 4)
    test_matched = stages[:, :, 0].sum(1) + stages[:, :, 2].sum(1)
    ref_matched = stages[:, :, 1].sum(1) + stages[:, :, 3].sum(1)
    whole = (test_matched == s[:, 0]) & (ref_matched == s[:, 1]) & (s[:, 20] == 1)
    total = s.sum(axis=0)
    total[20] = s[~whole, 20].sum()
    p = METEOR_EN
    delta, w = p["delta"], np.asarray(p["weights"])
    st = total[4:20].reshape(4, 4)
    test_w = float((w * (delta * st[:, 0] + (1 - delta) * st[:, 2])).sum())
    ref_w = float((w * (delta * st[:, 1] + (1 - delta) * st[:, 3])).sum())
    test_len = delta * (total[0] - total[2]) + (1 - delta) * total[2]
    ref_len = delta * (total[1] - total[3]) + (1 - delta) * total[3]
    if test_len <= 0 or ref_len <= 0:
        return 0.0
    precision, recall = test_w / test_len, ref_w / ref_len
    if precision == 0 or recall == 0:
        return 0.0
    fmean = precision * recall / (p["alpha"] * precision + (1 - p["alpha"]) * recall)
    matches = (total[21] + total[22]) / 2
    frag = total[20] / matches if matches > 0 else 0.0
    return float(fmean * (1 - p["gamma"] * frag ** p["beta"]))


@dataclass
class CocoCorpus:
    """Per-report statistics of one corpus, from which any resample is scored quickly.

    Build with ``CocoCorpus.build(predictions, references, ...)``.  ``corpus`` holds the
    corpus-level values (equal to pycocoevalcap's scorers on the whole corpus); ``items`` the
    per-report values: pycocoevalcap's per-image BLEU-k (its smoothed sentence BLEU), METEOR per
    segment, ROUGE-L, CIDEr.  ``scores(indexes)`` scores a resample (indexes may repeat) without
    Java:

    - BLEU-1..4: exact (corpus BLEU from the resampled reports' summed n-gram statistics);
    - METEOR: exact (the jar's aggregation of the resampled segments' statistics,
      ``meteor_from_statistics``);
    - ROUGE-L: exact (a mean of per-report values);
    - CIDEr: the mean of the reports' CIDEr computed with the document frequencies of the whole
      corpus.  pycocoevalcap would recompute the frequencies from the resample itself; keeping
      them fixed is an approximation (documented in docs/benchmarks.md) that makes a 1000-resample
      bootstrap cheap.  ``coco_scores(..., indexes=...)`` gives the exact value.
    """

    n: int
    metrics: tuple[str, ...]
    corpus: dict[str, float]
    items: dict[str, np.ndarray]
    bleu_stats: np.ndarray | None = None  # (n, 10): testlen, reflen, guess_1..4, correct_1..4
    meteor_stats: np.ndarray | None = None  # (n, 23): the jar's segment statistics

    @classmethod
    def build(cls, predictions: Sequence[str], references: Sequence[Sequence[str]], *,
              cleaning: str | None = "iu_xray", tokenizer: str = "r2gen",
              metrics: Sequence[str] = COCO_METRICS,
              references_cleaned: bool = False) -> CocoCorpus:
        """Clean, tokenise and score ``predictions`` (one text per item) against
        ``references`` (a list of texts per item).  One METEOR Java process per call."""
        unknown = [m for m in metrics if m not in COCO_METRICS]
        if unknown:
            raise MedgaugeError(f"unknown report metrics {unknown} (known: "
                                f"{', '.join(COCO_METRICS)})")
        if not predictions:
            raise MedgaugeError("report metrics: no predictions to score")
        preds, refs = prepare_texts(predictions, references, cleaning=cleaning,
                                    tokenizer=tokenizer, references_cleaned=references_cleaned)
        res = {i: [p] for i, p in enumerate(preds)}
        gts = dict(enumerate(refs))
        corpus: dict[str, float] = {}
        items: dict[str, np.ndarray] = {}
        out = cls(n=len(preds), metrics=tuple(m for m in COCO_METRICS if m in metrics),
                  corpus=corpus, items=items)
        if any(m in metrics for m in BLEU):
            out.bleu_stats = _bleu_statistics(preds, refs)
            scores, per_item = _coco("bleu.bleu").Bleu(4).compute_score(gts, res, verbose=0)
            for k, name in enumerate(BLEU):
                corpus[name] = float(scores[k])
                items[name] = np.asarray(per_item[k], dtype=float)
        if "ROUGE-L" in metrics:
            score, per_item = _coco("rouge.rouge").Rouge().compute_score(gts, res)
            corpus["ROUGE-L"], items["ROUGE-L"] = float(score), np.asarray(per_item, float)
        if "CIDEr" in metrics:
            score, per_item = _coco("cider.cider").Cider().compute_score(gts, res)
            corpus["CIDEr"], items["CIDEr"] = float(score), np.asarray(per_item, float)
        if "METEOR" in metrics:
            with meteor_process() as proc:
                stats = [proc.statistics(p, r) for p, r in zip(preds, refs, strict=True)]
                per_seg, score = proc.evaluate(stats)
            out.meteor_stats = np.asarray([[float(x) for x in s.split()] for s in stats])
            corpus["METEOR"], items["METEOR"] = score, np.asarray(per_seg, float)
        out.corpus = {m: corpus[m] for m in out.metrics}
        return out

    def _indexes(self, indexes: Sequence[int] | np.ndarray) -> np.ndarray:
        idx = np.asarray(indexes, dtype=np.int64)
        if idx.ndim != 1 or idx.size == 0:
            raise MedgaugeError("report metrics: a resample needs a non-empty 1-D index list")
        if idx.min() < 0 or idx.max() >= self.n:
            raise MedgaugeError(f"report metrics: resample index out of range 0..{self.n - 1}")
        return idx

    def scores(self, indexes: Sequence[int] | np.ndarray) -> dict[str, float]:
        """Corpus values on the reports ``indexes`` (repeats allowed; see the class note)."""
        idx = self._indexes(indexes)
        out: dict[str, float] = {}
        if self.bleu_stats is not None:
            values = _bleu_from_totals(self.bleu_stats[idx].sum(axis=0))
            out.update({name: float(values[k]) for k, name in enumerate(BLEU)})
        for name in ("ROUGE-L", "CIDEr"):
            if name in self.items:
                out[name] = float(self.items[name][idx].mean())
        if self.meteor_stats is not None:
            out["METEOR"] = meteor_from_statistics(self.meteor_stats[idx])
        return {m: out[m] for m in self.metrics}

    def bootstrap(self, n_resamples: int = 1000, seed: int = 0,
                  paired_with: CocoCorpus | None = None) -> dict[str, np.ndarray]:
        """``n_resamples`` corpus values per metric over reports drawn with replacement
        (``numpy.random.default_rng(seed)``).  With ``paired_with`` (another model on the same
        reports, same order) the arrays are this corpus minus the other, each resample using the
        same reports for both (paired bootstrap)."""
        if paired_with is not None and paired_with.n != self.n:
            raise MedgaugeError(f"paired bootstrap: {self.n} reports against {paired_with.n}")
        rng = np.random.default_rng(seed)
        out: dict[str, list[float]] = {m: [] for m in self.metrics}
        for _ in range(n_resamples):
            idx = rng.integers(0, self.n, self.n)
            values = self.scores(idx)
            other = paired_with.scores(idx) if paired_with is not None else {}
            for m in self.metrics:
                out[m].append(values[m] - other.get(m, 0.0))
        return {m: np.asarray(v) for m, v in out.items()}


def _bleu_statistics(preds: list[str], refs: list[list[str]]) -> np.ndarray:
    """Per-report BLEU sufficient statistics from pycocoevalcap's own n-gram cooking:
    test length, closest reference length, guesses and clipped matches for n = 1..4."""
    scorer_mod = _coco("bleu.bleu_scorer")
    rows = []
    for p, r in zip(preds, refs, strict=True):
        cooked = scorer_mod.cook_test(p, scorer_mod.cook_refs(r))
        testlen = cooked["testlen"]
        reflen = min((abs(length - testlen), length) for length in cooked["reflen"])[1]
        rows.append([testlen, reflen, *cooked["guess"], *cooked["correct"]])
    return np.asarray(rows, dtype=float)


def coco_scores(predictions: Sequence[str], references: Sequence[Sequence[str]], *,
                indexes: Sequence[int] | None = None, cleaning: str | None = "iu_xray",
                tokenizer: str = "r2gen", metrics: Sequence[str] = COCO_METRICS,
                references_cleaned: bool = False) -> dict[str, float]:
    """Corpus BLEU-1..4, METEOR, ROUGE-L, CIDEr of ``predictions`` against ``references``,
    exactly as pycocoevalcap's scorers compute them on the (cleaned) texts.

    ``indexes`` selects (with repeats) the reports to score, e.g. one bootstrap resample; CIDEr's
    document frequencies then come from that selection, as pycocoevalcap would compute them.
    Values are fractions (0-1) except CIDEr (0-10).  Errors: ``MedgaugeError`` for mismatched
    lengths, missing references, a missing pycocoevalcap or Java."""
    if indexes is not None:
        idx = list(indexes)
        if any(not 0 <= i < len(predictions) for i in idx):
            raise MedgaugeError(f"report metrics: index out of range 0..{len(predictions) - 1}")
        predictions = [predictions[i] for i in idx]
        references = [references[i] for i in idx]
    return CocoCorpus.build(predictions, references, cleaning=cleaning, tokenizer=tokenizer,
                            metrics=metrics, references_cleaned=references_cleaned).corpus


def corpus_bleu(stats: np.ndarray) -> list[float]:
    """BLEU-1..4 from an (items, 10) statistics array (see ``CocoCorpus.bleu_stats``)."""
    return [float(v) for v in _bleu_from_totals(np.asarray(stats, float).sum(axis=0))]


__all__ = [
    "BLEU", "CLEANINGS", "COCO_METRICS", "CocoCorpus", "MeteorProcess", "clean_generated",
    "clean_report",
    "clean_report_iu_xray", "clean_report_mimic_cxr", "coco_scores", "corpus_bleu",
    "is_r2gen_output",
    "meteor_from_statistics", "meteor_process", "prepare_texts", "ptb_tokenize",
    "r2gen_reference", "r2gen_vocabulary",
]
