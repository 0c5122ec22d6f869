"""RadGraph F1: entity and relation agreement of generated and reference reports' graphs.

A RadGraph (Jain et al. 2021, "RadGraph: Extracting Clinical Entities and Relations from
Radiology Reports", NeurIPS Datasets and Benchmarks) is, per report, a dict of entities, each
``{"tokens": str, "label": str, "start_ix": int, "end_ix": int, "relations": [[type, id]]}``
(labels such as ``Observation::definitely present`` / ``ANAT-DP``, relation types
``located_at``, ``suggestive_of``, ``modify``) -- the output format of the ``radgraph``
package and of the RadGraph dataset files.

Scores of one report pair (hypothesis against reference), each an F1 of two sets:

- ``entity_f1`` (Jain et al. 2021, entity F1): entities as ``(tokens, label)``;
- ``relation_f1`` (Jain et al. 2021, relation F1): relations as ``(source tokens, source label,
  type, target tokens, target label)`` -- a relation counts only when both ends and its type
  agree;
- ``rg_e``, ``rg_er``, ``rg_er_bar`` (Delbrouck et al. 2022, "Improving the Factual Correctness
  of Radiology Report Generation with Semantic Rewards", Findings of EMNLP, the "simple",
  "partial" and "complete" rewards): entities as ``(tokens, label)``; as ``(tokens, label,
  has a relation)``; as ``(tokens, label, the set of its (type, target tokens, target label))``.
  RG_ER is the "RadGraph F1" most report-generation papers report.

F1 = 2PR / (P + R) with P = |H ∩ R| / |H| and R = |H ∩ R| / |R| on the sets (tokens compared
lower-cased with whitespace collapsed); two empty sets score 1 (nothing to find, nothing
claimed), one empty set 0.  A corpus value is the mean over report pairs, as the ``radgraph``
package's ``F1RadGraph`` averages its per-report rewards.  The F1 code is ours (a few set
operations, so that graphs from any extractor -- the package, the dataset's annotations, a
file -- are scored the same way).

Extraction (optional plugin): :class:`RadGraphExtractor` runs the ``radgraph`` package's model
(``pip install radgraph``, torch and transformers) from a folder the user has on disk, with
Hugging Face offline mode on; nothing is downloaded.  Or give graphs you extracted yourself
(``load_graphs``: a JSON object of report key -> ``{"entities": {...}}``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medgauge.types import MedgaugeError

Graph = Mapping[str, Mapping[str, Any]]  # entity id -> entity
SCORES = ("entity_f1", "relation_f1", "rg_e", "rg_er", "rg_er_bar")


def _norm(tokens: Any) -> str:
    return " ".join(str(tokens).lower().split())


def check_graph(graph: Any, where: str) -> dict[str, dict[str, Any]]:
    """A validated graph (entity id -> entity); ``MedgaugeError`` naming ``where`` and the
    field otherwise.  Accepts ``{"entities": {...}}`` or the entities dict itself."""
    if isinstance(graph, Mapping) and "entities" in graph:
        graph = graph["entities"]
    if not isinstance(graph, Mapping):
        raise MedgaugeError(f"{where}: a RadGraph must be an object of entities")
    out: dict[str, dict[str, Any]] = {}
    for eid, ent in graph.items():
        here = f"{where}: entity {eid!r}"
        if not isinstance(ent, Mapping):
            raise MedgaugeError(f"{here}: must be an object")
        for key in ("tokens", "label"):
            if not isinstance(ent.get(key), str):
                raise MedgaugeError(f"{here}: field {key!r} must be a string")
        relations = ent.get("relations", [])
        if not isinstance(relations, list) or not all(
                isinstance(r, (list, tuple)) and len(r) == 2 for r in relations):
            raise MedgaugeError(f"{here}: field 'relations' must be a list of [type, entity id]")
        for _, target in relations:
            if str(target) not in {str(k) for k in graph}:
                raise MedgaugeError(f"{here}: relation to unknown entity {target!r}")
        out[str(eid)] = dict(ent)
    return out


def _sets(graph: Graph) -> dict[str, set[Any]]:
    ents = {str(k): v for k, v in graph.items()}
    key = {k: (_norm(v["tokens"]), v["label"]) for k, v in ents.items()}
    rels = {k: frozenset((t, *key[str(tgt)]) for t, tgt in v.get("relations", []))
            for k, v in ents.items()}
    return {
        "entity_f1": set(key.values()),
        "relation_f1": {(*key[k], t, *key[str(tgt)]) for k, v in ents.items()
                        for t, tgt in v.get("relations", [])},
        "rg_e": set(key.values()),
        "rg_er": {(*key[k], bool(v.get("relations"))) for k, v in ents.items()},
        "rg_er_bar": {(*key[k], rels[k]) for k in ents},
    }


def _f1(hyp: set[Any], ref: set[Any]) -> float:
    if not hyp and not ref:
        return 1.0
    common = len(hyp & ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(hyp), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def radgraph_scores(hypothesis: Graph, reference: Graph) -> dict[str, float]:
    """``{score: F1}`` for ``SCORES`` of one report pair (definitions in the module
    docstring).  Graphs: entity id -> entity (``check_graph`` validates)."""
    hyp = _sets(check_graph(hypothesis, "hypothesis graph"))
    ref = _sets(check_graph(reference, "reference graph"))
    return {name: _f1(hyp[name], ref[name]) for name in SCORES}


def corpus_radgraph(hypotheses: Sequence[Graph], references: Sequence[Graph]
                    ) -> dict[str, float]:
    """Mean of each score over report pairs (``F1RadGraph``'s averaging).  Errors: lengths
    differ or no pair."""
    if len(hypotheses) != len(references) or not hypotheses:
        raise MedgaugeError(f"RadGraph F1: {len(hypotheses)} hypothesis graphs for "
                            f"{len(references)} reference graphs (need the same, at least one)")
    per = [radgraph_scores(h, r) for h, r in zip(hypotheses, references, strict=True)]
    return {name: sum(p[name] for p in per) / len(per) for name in SCORES}


def load_graphs(path: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Graphs extracted elsewhere: a JSON object report key -> graph (the ``radgraph``
    package's output shape).  One-line errors name the file and the key."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MedgaugeError(f"RadGraph annotations not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise MedgaugeError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise MedgaugeError(f"{path}: expected an object of report key -> RadGraph")
    return {str(k): check_graph(v, f"{path}: {k}") for k, v in data.items()}


class RadGraphExtractor:
    """The ``radgraph`` package's model (``RadGraph(model_type=...)``) loaded from
    ``model_dir``, a Hugging Face cache folder holding that model, with offline mode on.
    ``graphs(reports)`` -> one graph per report.

    Expected: ``pip install radgraph`` (it needs torch and transformers) and the folder filled
    once where a network is allowed (the package's first run with ``HF_HUB_CACHE=model_dir``).
    Errors (one line): folder missing, package missing, the model cannot be loaded offline."""

    def __init__(self, model_dir: str | Path, model_type: str = "radgraph-xl") -> None:
        self.model_dir = Path(model_dir).expanduser()
        if not self.model_dir.is_dir():
            raise MedgaugeError(f"RadGraph model folder not found: {self.model_dir} (medgauge "
                                "downloads nothing; give the folder holding the model)")
        try:
            import radgraph
        except ImportError:
            raise MedgaugeError("RadGraph extraction needs the radgraph package: pip install "
                                "radgraph (or give extracted graphs: load_graphs)") from None
        saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_HUB_CACHE")}
        os.environ.update({"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(self.model_dir)})
        try:
            self._model = radgraph.RadGraph(model_type=model_type)
        except Exception as exc:  # the package raises many kinds; one line for the user
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MedgaugeError(f"RadGraph model {model_type!r} could not be loaded from "
                                f"{self.model_dir}: {reason}") from None
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def graphs(self, reports: Sequence[str]) -> list[dict[str, dict[str, Any]]]:
        out = self._model(list(reports))
        return [check_graph(out[str(i)], f"RadGraph output {i}") for i in range(len(reports))]


__all__ = ["SCORES", "RadGraphExtractor", "check_graph", "corpus_radgraph", "load_graphs",
           "radgraph_scores"]
