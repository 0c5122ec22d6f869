"""One parser for boolean options (``medgauge.options.as_bool``), used by backends, benchmarks
and probes: text from the command line, typed values from a config; a typo is an error that
names the option, never a silent False (or, as ``bool("false")`` did, a silent True)."""

from __future__ import annotations

import pytest

from medgauge.backends import create_backend
from medgauge.options import as_bool
from medgauge.runner.solver import load_probes, solvers
from medgauge.types import MedgaugeError


@pytest.mark.parametrize("value", [True, 1, "1", "true", "TRUE", " yes ", "on"])
def test_true_values(value):
    assert as_bool(value, "x") is True


@pytest.mark.parametrize("value", [False, 0, "0", "false", "False", "no", "off "])
def test_false_values(value):
    assert as_bool(value, "x") is False


@pytest.mark.parametrize("value", ["ture", "", 2, None, "maybe"])
def test_anything_else_names_the_option_and_where(value):
    with pytest.raises(MedgaugeError, match=r"^hf: option trust_remote_code must be true or "
                                            r"false, got "):
        as_bool(value, "trust_remote_code", "hf")


def test_openai_reasoning_reply_false_from_the_command_line_is_false():
    off = create_backend("openai:m", {"base_url": "http://127.0.0.1:9/v1",
                                      "reasoning_reply": "false"})
    on = create_backend("openai:m", {"base_url": "http://127.0.0.1:9/v1",
                                     "reasoning_reply": "yes"})
    assert off.reasoning_reply is False and on.reasoning_reply is True
    with pytest.raises(MedgaugeError, match="openai: option reasoning_reply"):
        create_backend("openai:m", {"base_url": "http://127.0.0.1:9/v1",
                                    "reasoning_reply": "flase"})


def test_probe_options_use_the_same_parser():
    load_probes()
    assert solvers.get("mismatch")(claim="on").claim is True
    with pytest.raises(MedgaugeError, match="probe mismatch: option claim"):
        solvers.get("mismatch")(claim="nope")


@pytest.mark.parametrize(("options", "message"), [
    ({"batch_size": "abc"}, "vllm: option batch_size must be int, got 'abc'"),
    ({"batch_size": 0}, "vllm: option batch_size must be >= 1, got 0"),
    ({"max_new_tokens": "many"}, "vllm: option max_new_tokens must be int, got 'many'"),
    ({"batch_wait_s": "soon"}, "vllm: option batch_wait_s must be float, got 'soon'"),
    ({"max_images": "x"}, "vllm: option max_images must be int, got 'x'"),
])
def test_vllm_number_options_are_one_line_errors_not_tracebacks(tmp_path, options, message):
    """These options were converted with a bare ``int()``/``float()``: a ValueError, an
    internal error (exit 70) instead of a one-line input error."""
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(MedgaugeError) as caught:
        create_backend(f"vllm:{tmp_path}", options)
    assert str(caught.value) == message


def test_retriever_number_options_share_the_parser():
    from medgauge.retrieval.base import float_option, int_option

    assert int_option({"k": "5"}, "k", 1) == 5 and float_option({}, "b", 0.75) == 0.75
    with pytest.raises(MedgaugeError, match=r"^retriever: option hnsw_m must be >= 2, got 1$"):
        int_option({"hnsw_m": 1}, "hnsw_m", 32, minimum=2)
    with pytest.raises(MedgaugeError, match=r"^retriever: option k1 must be float, got 'x'$"):
        float_option({"k1": "x"}, "k1", 1.5)
