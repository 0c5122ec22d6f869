"""CheXbert (Smit et al., EMNLP 2020, "CheXbert: Combining Automatic Labelers and Expert
Annotations for Accurate Radiology Report Labeling Using BERT") as an optional labeler plugin.

Nothing is downloaded: the user gives the CheXbert checkpoint (``chexbert.pth``, a dict with
``model_state_dict`` saved from a DataParallel model, keys ``module.bert.*`` and
``module.linear_heads.{0..13}.*``) and a local ``bert-base-uncased`` folder (``config.json`` and
``vocab.txt``) for the tokenizer and the network's shape.  Needs the ``hf`` extra (torch,
transformers).

The network is BERT's [CLS] vector followed by 14 linear heads: 13 observations with 4 classes
(0 blank, 1 positive, 2 negative, 3 uncertain) and No Finding with 2 (0 blank, 1 positive), in
CheXbert's observation order ``CHEXBERT_ORDER``.  Reports are stripped, whitespace collapsed and
cut to 512 word pieces, as CheXbert's ``label.py`` does.  Output: the same label dicts as
``chexpert_rules.label_report`` (1, 0, -1, None), so ``metrics.clinical`` takes either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medgauge.types import MedgaugeError

CHEXBERT_ORDER: tuple[str, ...] = (
    "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
    "Pleural Other", "Fracture", "Support Devices", "No Finding",
)
#: Head class index -> medgauge label (CheXbert's CLASS_MAPPING: blank, positive, negative,
#: uncertain).
CLASS_TO_LABEL: dict[int, int | None] = {0: None, 1: 1, 2: 0, 3: -1}
MAX_TOKENS = 512


def _modules() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError:
        raise MedgaugeError("the CheXbert labeler needs torch and transformers: pip install "
                            "'medgauge[hf]'") from None
    return torch, transformers


class CheXbertLabeler:
    """CheXbert from files on disk.  ``label_reports(reports)`` -> list of label dicts.

    Errors (``MedgaugeError``, one line): missing checkpoint or BERT folder, missing torch or
    transformers, a checkpoint without ``model_state_dict`` or whose tensors do not fit."""

    def __init__(self, checkpoint: str | Path, bert_dir: str | Path, *, device: str = "cpu",
                 batch_size: int = 16) -> None:
        self.checkpoint = Path(checkpoint).expanduser()
        self.bert_dir = Path(bert_dir).expanduser()
        if not self.checkpoint.is_file():
            raise MedgaugeError(f"CheXbert checkpoint not found: {self.checkpoint} (medgauge "
                                "downloads nothing; give the chexbert.pth you have)")
        for name in ("config.json", "vocab.txt"):
            if not (self.bert_dir / name).is_file():
                raise MedgaugeError(f"CheXbert: {name} not found in {self.bert_dir} (give a "
                                    "local bert-base-uncased folder)")
        torch, transformers = _modules()
        self.torch = torch
        self.device = device
        self.batch_size = batch_size
        self.tokenizer = transformers.BertTokenizer.from_pretrained(str(self.bert_dir))
        config = transformers.BertConfig.from_pretrained(str(self.bert_dir))
        self.bert = transformers.BertModel(config, add_pooling_layer=True)
        hidden = config.hidden_size
        self.max_tokens = min(MAX_TOKENS, config.max_position_embeddings)
        self.heads = torch.nn.ModuleList([torch.nn.Linear(hidden, 4) for _ in range(13)]
                                         + [torch.nn.Linear(hidden, 2)])
        self._load(torch)
        self.bert.to(device).eval()
        self.heads.to(device).eval()

    def _load(self, torch: Any) -> None:
        try:
            state = torch.load(self.checkpoint, map_location="cpu", weights_only=True)
        except Exception as exc:  # a pickle error, a truncated file ...
            raise MedgaugeError(f"CheXbert: cannot read {self.checkpoint} ({exc})") from None
        if not isinstance(state, dict) or "model_state_dict" not in state:
            raise MedgaugeError(f"CheXbert: {self.checkpoint} has no 'model_state_dict'")
        bert, heads = {}, {}
        for key, value in state["model_state_dict"].items():
            name = key.removeprefix("module.")
            if name.startswith("bert."):
                bert[name.removeprefix("bert.")] = value
            elif name.startswith("linear_heads."):
                heads[name.removeprefix("linear_heads.")] = value
        try:
            missing = self.bert.load_state_dict(bert, strict=False).missing_keys
            self.heads.load_state_dict(heads, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise MedgaugeError(f"CheXbert: {self.checkpoint} does not fit the network "
                                f"({first})") from None
        missing = [k for k in missing if not k.endswith("position_ids")]
        if missing:
            raise MedgaugeError(f"CheXbert: {self.checkpoint} lacks {len(missing)} BERT "
                                f"tensors (first: {missing[0]})")

    def _encode(self, report: str) -> list[int]:
        text = re.sub(r"\s+", " ", (report or "").strip())
        ids = self.tokenizer.encode(text, add_special_tokens=True)
        if len(ids) > self.max_tokens:
            ids = [*ids[:self.max_tokens - 1], self.tokenizer.sep_token_id]
        return ids

    def label_reports(self, reports: Sequence[str]) -> list[dict[str, int | None]]:
        torch = self.torch
        out: list[dict[str, int | None]] = []
        for start in range(0, len(reports), self.batch_size):
            batch = [self._encode(r) for r in reports[start:start + self.batch_size]]
            width = max(len(b) for b in batch)
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for i, b in enumerate(batch):
                ids[i, :len(b)] = torch.tensor(b)
                mask[i, :len(b)] = 1
            with torch.no_grad():
                hidden = self.bert(ids.to(self.device), attention_mask=mask.to(self.device))[0]
                cls = hidden[:, 0, :]
                classes = [head(cls).argmax(dim=1).tolist() for head in self.heads]
            for i in range(len(batch)):
                out.append({obs: CLASS_TO_LABEL[classes[j][i]]
                            for j, obs in enumerate(CHEXBERT_ORDER)})
        return out


__all__ = ["CHEXBERT_ORDER", "CLASS_TO_LABEL", "CheXbertLabeler"]
