"""The ``hf:`` backend's one-line errors: nothing downloaded, bad folders, bad inputs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medgauge.backends import create_backend
from medgauge.types import GenParams, ImageRef, MedgaugeError, Request

REPO = Path(__file__).resolve().parents[1]


def _one_line(exc: pytest.ExceptionInfo[MedgaugeError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_hub_id_is_refused_without_download(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # so that no folder of that name can exist
    with pytest.raises(MedgaugeError) as exc:
        create_backend("hf:Qwen/Qwen2-VL-2B-Instruct")
    msg = _one_line(exc)
    assert "not a local folder" in msg and "never downloads" in msg
    assert not (tmp_path / "Qwen").exists()


def test_folder_without_config(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(MedgaugeError) as exc:
        create_backend(f"hf:{tmp_path}")
    assert "no config.json" in _one_line(exc)


def test_unknown_and_bad_options(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(MedgaugeError) as exc:
        create_backend(f"hf:{tmp_path}", {"batchsize": 4})
    assert "unknown option(s) batchsize" in _one_line(exc)
    with pytest.raises(MedgaugeError) as exc:
        create_backend(f"hf:{tmp_path}", {"batch_size": "many"})
    assert "batch_size must be an integer" in _one_line(exc)


def test_missing_extra_names_the_install_command(tmp_path: Path) -> None:
    """torch made unimportable in a child interpreter (as when medgauge[hf] is not installed)."""
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from medgauge.backends import create_backend\n"
        "from medgauge.types import MedgaugeError\n"
        "try:\n"
        f"    create_backend({'hf:' + str(tmp_path)!r})\n"
        "except MedgaugeError as exc:\n"
        "    print('ERR', exc)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ERR the hf backend needs torch and transformers" in out.stdout
    assert "install medgauge[hf]" in out.stdout


def test_module_imports_without_torch() -> None:
    code = ("import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
            "import medgauge.backends.hf as hf\n"
            "from medgauge.backends import backends\n"
            "assert backends.get('hf') is hf.HFBackend\n"
            "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


# ---------------------------------------------------------------- with torch + tiny models

def _generate(path: Path, requests: list[Request]) -> list[object]:
    async def go() -> list[object]:
        backend = create_backend(f"hf:{path}", {"device": "cpu", "batch_size": 4})
        try:
            return list(await asyncio.gather(*(backend.generate(r) for r in requests),
                                             return_exceptions=True))
        finally:
            await backend.close()
    return asyncio.run(go())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import hf_tiny

    return hf_tiny


def _image_request(path: str, question: str = "Is there a mass?",
                   sample_id: str | None = None) -> Request:
    return Request(messages=[{"role": "user", "content": [
        {"type": "image", "image": ImageRef(path)}, {"type": "text", "text": question}]}],
        params=GenParams(max_tokens=4), meta={"sample_id": sample_id} if sample_id else {})


def test_model_without_chat_template(tiny, tmp_path: Path) -> None:
    path = tiny.build_text_model(tmp_path / "plain", chat_template=None)
    backend = create_backend(f"hf:{path}", {"device": "cpu"})
    with pytest.raises(MedgaugeError) as exc:
        asyncio.run(backend.start())
    assert "has no chat template" in _one_line(exc)


def test_images_sent_to_a_text_only_model(tiny, tmp_path_factory, shared_data: Path) -> None:
    path = tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "llama")
    image = sorted((shared_data / "vqa_rad" / "images").glob("*.jpg"))[0]
    backend = create_backend(f"hf:{path}")
    assert backend.supports_images is False
    [err] = _generate(path, [_image_request(str(image))])
    assert isinstance(err, MedgaugeError)
    assert "is text-only" in str(err) and "1 image(s)" in str(err)


def test_corrupt_image_fails_alone(tiny, tmp_path_factory, tmp_path: Path,
                                   shared_data: Path) -> None:
    path = tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "llava")
    good = sorted((shared_data / "vqa_rad" / "images").glob("*.jpg"))[0]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(good.read_bytes()[:40])  # a JPEG header and nothing else
    missing = tmp_path / "absent.jpg"
    out = _generate(path, [_image_request(str(good)),
                           _image_request(str(bad), sample_id="q17"),
                           _image_request(str(missing))])
    assert getattr(out[0], "ok", False)  # the good request in the same batch is answered
    assert isinstance(out[1], MedgaugeError)
    assert "cannot decode image" in str(out[1]) and "broken.jpg" in str(out[1])
    assert str(out[1]).startswith("sample 'q17': ")  # the error names the sample
    assert isinstance(out[2], MedgaugeError) and "image not found" in str(out[2])
