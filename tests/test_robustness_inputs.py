"""Issue 15, inputs and outputs: every malformed input is one line naming file/line/field with
exit 2, nothing is written over a store, CSV cells cannot run formulas, ill-posed items are
refused, images keep what they show."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgauge.failures import describe_unexpected
from medgauge.images import to_rgb
from scripted_server import ScriptedServer, completion
from test_cli import medgauge, one_line_error

RUN = ("-m", "baseline:random", "-q")


def mcq(i: int, **extra: object) -> dict:
    return {"id": f"m{i}", "question": f"Which side, case {i}?",
            "options": {"A": "left", "B": "right"}, "answer": "A", **extra}


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(tmp: Path, data: Path, *args: str):
    return medgauge("run", "-b", f"custom={data}", *RUN, "--store", str(tmp / "s.db"), *args)


BAD_LINES = {
    "not UTF-8": b'{"id": "a", "question": "caf\xe9", "answer": "yes"}\n',
    "nested too deeply": b'{"id": ' + b"[" * 200_000 + b"]" * 200_000 + b"}\n",
    "4300 digits": b'{"id": ' + b"7" * 5000 + b', "question": "q", "answer": "yes"}\n',
    "lone surrogate": b'{"id": "a", "question": "x\\ud800y", "answer": "yes"}\n',
}


@pytest.mark.parametrize("kind", sorted(BAD_LINES))
def test_malformed_jsonl_lines_are_one_line_errors_naming_the_line(tmp_path, kind):
    data = tmp_path / "d.jsonl"
    data.write_bytes(json.dumps(mcq(0)).encode() + b"\n" + BAD_LINES[kind])
    res = run(tmp_path, data)
    assert res.returncode == 2 and "d.jsonl:2" in one_line_error(res), res.stderr


def test_a_byte_order_mark_and_gzip_are_read(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + json.dumps(mcq(0)).encode() + b"\n")
    assert run(tmp_path, data).returncode == 0
    preds = tmp_path / "p.jsonl.gz"
    with gzip.open(preds, "wt") as fh:
        fh.write(json.dumps({"id": "m0", "response": "A"}) + "\n"
                 + json.dumps({"id": "typo", "response": "B"}) + "\n")
    res = medgauge("score", "-b", f"custom={data}", "--predictions", str(preds))
    assert res.returncode == 0, res.stderr
    assert "1 prediction(s) name no sample" in res.stdout and "'typo'" in res.stdout


def test_non_utf8_config_and_flags_given_with_a_config(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_bytes(b"store: caf\xe9.db\n")
    res = medgauge("run", "-c", str(config))
    assert res.returncode == 2 and "run.yaml: not UTF-8" in one_line_error(res)
    data = jsonl(tmp_path / "d.jsonl", [mcq(0)])
    config.write_text(f"benchmarks: [{{name: custom, data: {data}}}]\n"
                      "models: [{spec: 'baseline:random'}]\n"
                      f"store: {tmp_path / 's.db'}\n")
    res = medgauge("run", "-c", str(config), "--limit", "1", "-m", "baseline:prior")
    line = one_line_error(res)
    assert res.returncode == 2 and "--limit, -m cannot be combined with --config" in line
    assert medgauge("run", "-c", str(config), "-q").returncode == 0


def test_an_old_store_and_a_full_disk_are_one_line_errors(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [mcq(0), mcq(1, question="=HYPERLINK(\"x\")")])
    assert run(tmp_path, data).returncode == 0
    # disk full: a real ENOSPC from the kernel (/dev/full), through the export
    full = tmp_path / "items.jsonl"
    full.symlink_to("/dev/full")
    res = medgauge("results", "--store", str(tmp_path / "s.db"), "--export", str(full))
    assert res.returncode == 2 and "disk full" in one_line_error(res)
    # formulas are neutralised in every CSV medgauge writes
    out = tmp_path / "items.csv"
    assert medgauge("results", "--store", str(tmp_path / "s.db"), "--export",
                    str(out)).returncode == 0
    assert "'=HYPERLINK" in out.read_text() and ",=HYPERLINK" not in out.read_text()
    with sqlite3.connect(tmp_path / "s.db") as db:
        db.execute("ALTER TABLE items DROP COLUMN cluster")
    res = medgauge("results", "--store", str(tmp_path / "s.db"))
    assert res.returncode == 2 and "cluster" in one_line_error(res)


def test_unexpected_exceptions_never_use_exit_1():
    assert describe_unexpected(ValueError("boom"))[1] == 70
    assert describe_unexpected(OSError(28, "No space left on device"))[1] == 2
    assert describe_unexpected(sqlite3.OperationalError("database or disk is full"))[0].startswith(
        "disk full")


def test_permute_without_options_in_the_prompt_is_refused(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [mcq(0)])
    res = run(tmp_path, data, "--probe", "permute", "--prompt", "{question} Answer A or B.")
    assert res.returncode == 2 and "add {options} to the prompt" in one_line_error(res)
    assert run(tmp_path, data, "--probe", "permute").returncode == 0


def test_templates_allow_plain_names_only(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [mcq(0)])
    res = run(tmp_path, data, "--prompt", "{question.__class__}")
    assert res.returncode == 2 and "is not allowed" in one_line_error(res)


def test_report_never_overwrites_a_store_or_a_foreign_file(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [mcq(0)])
    assert run(tmp_path, data).returncode == 0
    store = tmp_path / "s.db"
    before = store.read_bytes()
    res = medgauge("report", "--store", str(store), "-o", str(store))
    assert res.returncode == 2 and "SQLite store" in one_line_error(res)
    assert store.read_bytes() == before
    notes = tmp_path / "notes.html"
    notes.write_text("<p>my notes</p>")
    res = medgauge("report", "--store", str(store), "-o", str(notes))
    assert res.returncode == 2 and notes.read_text() == "<p>my notes</p>"
    report = tmp_path / "r.html"
    for _ in range(2):  # a previous report is overwritten
        assert medgauge("report", "--store", str(store), "-o", str(report)).returncode == 0
    assert medgauge("report", "--store", str(store), "-o", str(notes), "--force").returncode == 0


def test_an_empty_benchmark_is_an_error(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("\n")
    res = run(tmp_path, data)
    assert res.returncode == 2 and "no samples" in one_line_error(res)


def test_ill_posed_items_are_refused_naming_the_record(tmp_path):
    Image.new("L", (8, 8)).save(tmp_path / "a.png")
    data = jsonl(tmp_path / "d.jsonl", [mcq(0, question="Compare <image 1> with <image 2>.",
                                            images=["a.png"])])
    res = run(tmp_path, data)
    line = one_line_error(res)
    assert res.returncode == 2 and "'m0': refers to <image 2> but has 1 image" in line
    data = jsonl(tmp_path / "d.jsonl", [mcq(1, options={"A": "left", "B": "Left "})])
    res = run(tmp_path, data)
    assert res.returncode == 2 and "options A and B have the same text" in one_line_error(res)


def test_errors_are_printed_verbatim(tmp_path):
    res = medgauge("run", "-b", f"custom={tmp_path / '[info]' / 'x.jsonl'}", *RUN)
    assert res.returncode == 2 and "[info]" in one_line_error(res)


def test_absolute_image_paths_say_which_option_allows_them(tmp_path):
    Image.new("L", (8, 8)).save(tmp_path / "a.png")
    sub = tmp_path / "data"
    sub.mkdir()
    rows = [{"q": "Normal?", "gold": "yes", "img": str(tmp_path / "a.png")}]
    data = jsonl(sub / "d.jsonl", rows)
    res = medgauge("run", "-b", f"custom={data}", "--opt", "question=q", "--opt", "answer=gold",
                   "--opt", "image=img", *RUN, "--store", str(tmp_path / "s.db"))
    assert res.returncode == 2 and "set image_root=" in one_line_error(res)


def test_a_corrupt_image_error_names_its_sample(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    data = jsonl(tmp_path / "d.jsonl", [mcq(7, images=["bad.png"])])
    server = ScriptedServer(lambda i: (200, {}, completion("A")))
    try:
        res = medgauge("run", "-b", f"custom={data}", "-m", "openai:m", "--base-url",
                       server.url, "--store", str(tmp_path / "s.db"), "-q")
        line = one_line_error(res)
        assert res.returncode == 2 and "'m7'" in line and "bad.png" in line
    finally:
        server.close()


def test_object_options_and_list_golds_load_or_stop(tmp_path):
    rows = [{"id": "o1", "q": "Which organ?", "gold": ["2"],
             "opts": [{"aid": 1, "atext": "liver"}, {"aid": 2, "atext": "spleen"}]}]
    data = jsonl(tmp_path / "d.jsonl", rows)
    args = ("--opt", "question=q", "--opt", "answer=gold", "--opt", "options=opts")
    res = medgauge("run", "-b", f"custom={data}", *args, *RUN, "--store", str(tmp_path / "s.db"))
    assert res.returncode == 2 and "option_text=" in one_line_error(res)
    out = tmp_path / "items.jsonl"
    res = medgauge("run", "-b", f"custom={data}", *args, "--opt", "option_id=aid", "--opt",
                   "option_text=atext", *RUN, "--store", str(tmp_path / "s.db"))
    assert res.returncode == 0, res.stderr
    medgauge("results", "--store", str(tmp_path / "s.db"), "--export", str(out))
    [item] = [json.loads(x) for x in out.read_text().splitlines()]
    assert item["answer"] == "B" and "spleen" not in item["answer"]
    open_rows = [{"id": "t1", "question": "Which organ?", "answer": ["liver"]}]
    res = medgauge("run", "-b", f"custom={jsonl(tmp_path / 'o.jsonl', open_rows)}", "--opt",
                   "answer=answer", *RUN, "--store", str(tmp_path / "o.db"))
    assert res.returncode == 0, res.stderr
    medgauge("results", "--store", str(tmp_path / "o.db"), "--export", str(out))
    assert json.loads(out.read_text())["answer"] == "liver"


def test_a_misspelt_breakdown_field_is_an_error(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [mcq(0, metadata={"organ": "lung"})])
    assert run(tmp_path, data).returncode == 0
    res = medgauge("results", "--store", str(tmp_path / "s.db"), "--by", "orgn")
    assert res.returncode == 2 and "(fields: organ)" in one_line_error(res)


def test_one_rgb_decoder_keeps_transparent_figures_and_16_bit_range():
    figure = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    figure.putpixel((1, 1), (0, 0, 0, 255))
    rgb = np.asarray(to_rgb(figure))
    assert rgb[0, 0].tolist() == [255, 255, 255] and rgb[1, 1].tolist() == [0, 0, 0]
    wide = Image.fromarray(np.array([[1000, 2000], [3000, 4000]], dtype=np.uint16))
    assert wide.mode.startswith("I;16")
    grey = np.asarray(to_rgb(wide))[..., 0]
    assert grey.tolist() == [[0, 85], [170, 255]]  # windowed to 1000..4000, not clipped
    la = Image.new("LA", (2, 1), (0, 0))
    assert np.asarray(to_rgb(la))[0, 0].tolist() == [255, 255, 255]
