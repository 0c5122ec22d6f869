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
