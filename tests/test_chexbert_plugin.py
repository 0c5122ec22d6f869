"""The CheXbert labeler plugin through its real loading path: a tiny BERT in CheXbert's
checkpoint layout (random weights, written here; medgauge downloads nothing), so the test checks
the loading, the tokenisation, the head order and the class mapping, not CheXbert's accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

from medgauge.labelers.chexbert import CHEXBERT_ORDER, CheXbertLabeler
from medgauge.metrics.clinical import report_ce
from medgauge.types import MedgaugeError

torch = pytest.importorskip("torch", reason="needs the hf extra (torch)")
transformers = pytest.importorskip("transformers", reason="needs the hf extra (transformers)")

WORDS = ["heart", "size", "is", "normal", "no", "effusion", "large", "pneumothorax", "."]


def _bert_dir(tmp: Path) -> Path:
    folder = tmp / "bert"
    folder.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=32,
                            max_position_embeddings=64).save_pretrained(folder)
    return folder


def _checkpoint(tmp: Path, bert_dir: Path, favourite: dict[int, int]) -> Path:
    """A DataParallel-style checkpoint whose head j always picks class favourite[j]."""
    torch.manual_seed(0)
    config = transformers.BertConfig.from_pretrained(bert_dir)
    bert = transformers.BertModel(config)
    state = {f"module.bert.{k}": v for k, v in bert.state_dict().items()}
    for j in range(14):
        n = 4 if j < 13 else 2
        weight = torch.zeros(n, config.hidden_size)
        bias = torch.zeros(n)
        bias[favourite.get(j, 0)] = 50.0
        state[f"module.linear_heads.{j}.weight"] = weight
        state[f"module.linear_heads.{j}.bias"] = bias
    path = tmp / "chexbert.pth"
    torch.save({"epoch": 1, "model_state_dict": state}, path)
    return path


def test_heads_map_to_observations_and_labels(tmp_path):
    bert_dir = _bert_dir(tmp_path)
    # Cardiomegaly positive, Lung Opacity uncertain, Pleural Effusion negative, No Finding 1
    ckpt = _checkpoint(tmp_path, bert_dir, {1: 1, 2: 3, 9: 2, 13: 1})
    labeler = CheXbertLabeler(ckpt, bert_dir, batch_size=2)
    labels = labeler.label_reports(["heart size is normal .", "no effusion", "large " * 600])
    assert len(labels) == 3  # two batches, one report longer than the 64 positions
    for row in labels:
        assert row["Cardiomegaly"] == 1 and row["Lung Opacity"] == -1
        assert row["Pleural Effusion"] == 0 and row["No Finding"] == 1
        assert row["Edema"] is None
        assert set(row) == set(CHEXBERT_ORDER)
    scores, _, _ = report_ce(["a"], ["b"], labeler=labeler)
    assert scores["CE-F1-micro"] == 1.0


def test_missing_files_and_bad_checkpoints_are_one_line_errors(tmp_path):
    bert_dir = _bert_dir(tmp_path)
    with pytest.raises(MedgaugeError, match="checkpoint not found"):
        CheXbertLabeler(tmp_path / "absent.pth", bert_dir)
    bad = tmp_path / "bad.pth"
    torch.save({"weights": {}}, bad)
    with pytest.raises(MedgaugeError, match="has no 'model_state_dict'"):
        CheXbertLabeler(bad, bert_dir)
    torch.save({"model_state_dict": {"module.linear_heads.0.weight": torch.zeros(3, 3)}}, bad)
    with pytest.raises(MedgaugeError, match="does not fit the network"):
        CheXbertLabeler(bad, bert_dir)
    with pytest.raises(MedgaugeError, match=r"config.json not found in"):
        CheXbertLabeler(bad, tmp_path)
