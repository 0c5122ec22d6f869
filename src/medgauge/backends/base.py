"""The one Protocol every backend implements, and the registry that names them.

Adding a backend touches one file: subclass ``Backend``, decorate it with
``@backends.register("name")``, and make sure its module is imported in
``medgauge.backends.__init__`` (heavy dependencies imported lazily inside the class).
"""

from __future__ import annotations

import json
import re
import sys
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from medgauge.options import as_number
from medgauge.registry import Registry
from medgauge.types import MedgaugeError, Request, Response

if TYPE_CHECKING:
    from medgauge.benchmarks.base import Benchmark


class Backend(ABC):
    """A model behind one async ``generate`` call.

    ``model`` is the part of the model spec after ``kind:`` (``openai:gpt-4o`` -> ``gpt-4o``,
    ``hf:/ckpt`` -> ``/ckpt``, ``baseline:random`` -> ``random``); ``options`` the backend's own
    settings from flags or the config file.
    """

    kind: ClassVar[str] = ""
    #: option name -> one-line help, shown by ``medgauge list backends``
    option_help: ClassVar[dict[str, str]] = {}
    supports_images: ClassVar[bool] = True
    supports_continuations: ClassVar[bool] = False
    #: one instance per benchmark (the backend learns from the benchmark in ``prepare``), so
    #: tasks of several benchmarks can run concurrently
    per_benchmark: ClassVar[bool] = False

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        self.model = model
        self.options = dict(options or {})
        self.concurrency = int(self.take("concurrency", int, 8, minimum=1))
        #: consecutive samples whose requests all failed before the task stops (0: never)
        self.stop_after_failures = int(self.take("stop_after_failures", int, 25, minimum=0))

    def take(self, name: str, kind: type, default: Any, minimum: float | None = None) -> Any:
        """Pop option ``name`` converted to ``kind`` (int/float/str), or a one-line error naming
        the backend and the option."""
        value = self.options.pop(name, default)
        if value is None or kind is str:
            return value if value is None else kind(value)
        return as_number(value, name, kind, f"backend {self.kind}", minimum)

    def reject_unknown_options(self, known: str) -> None:
        if self.options:
            raise MedgaugeError(f"backend {self.kind}: unknown option(s) "
                                f"{', '.join(sorted(self.options))} (known: {known})")

    def identity(self) -> str:
        """Stable model identity used in cache keys and run ids; never contains secrets or URLs.
        Options that change the answers (``answer_options``) are part of it, so changing one
        does not silently reuse answers given under the old setting."""
        extra = {k: v for k, v in self.answer_options().items() if v is not None}
        if not extra:
            return f"{self.kind}:{self.model}"
        return f"{self.kind}:{self.model}{json.dumps(extra, sort_keys=True, default=str)}"

    def answer_options(self) -> dict[str, Any]:
        """The backend's settings that change what the model answers (not how fast)."""
        return {}

    def display_name(self) -> str:
        return self.identity()

    def key_extra(self, request: Request) -> str | None:
        """What besides the request itself decides this backend's answer, for the cache key.
        Models answer from the request alone (None); a backend that answers per sample (replay,
        seeded random) returns the sample id so identical questions are not shared."""
        return None

    def prepare(self, benchmark: Benchmark) -> None:  # noqa: B027 - optional hook
        """Called once per benchmark before its samples are sent (e.g. the prior baseline)."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections / load weights.  Called inside the running event loop."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what ``start`` acquired."""

    @abstractmethod
    async def generate(self, request: Request) -> Response:
        """Answer one request.  Failures are returned as ``Response(error=...)`` or raised as
        ``MedgaugeError`` for fatal ones (bad key, unknown model) that must stop the run."""


backends: Registry[type[Backend]] = Registry("backend")


def option_help_from_doc(doc: str | None) -> dict[str, str]:
    """The ``Options`` block of a module docstring (``  name   help`` lines, two or more spaces
    between) as a dict, so a backend documents its options once."""
    out: dict[str, str] = {}
    inside = False
    for line in (doc or "").splitlines():
        if line.startswith("Options"):
            inside = True
            continue
        if inside:
            match = re.match(r"^  (\w+)\s{2,}(.+)$", line)
            if match:
                out[match.group(1)] = match.group(2).strip()
            elif line.strip():
                if not line.startswith("   "):
                    break
                if out:  # a continuation line
                    last = next(reversed(out))
                    out[last] += " " + line.strip()
            else:
                break
    return out


def describe_backend(cls: type[Backend]) -> str:
    """First docstring line and the options, for ``medgauge list backends``."""
    doc = cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
    text = doc.strip().splitlines()[0] if doc.strip() else ""
    if cls.option_help:
        text += "\noptions (--model-opt KEY=VALUE):\n" + "\n".join(
            f"  {k}: {v}" for k, v in cls.option_help.items())
    return text


def parse_model_spec(spec: str) -> tuple[str, str]:
    """``openai:gpt-4o`` -> ("openai", "gpt-4o"); ``hf:/path`` -> ("hf", "/path")."""
    kind, sep, model = spec.partition(":")
    if not sep or not kind or not model:
        raise MedgaugeError(
            f"model spec {spec!r} must look like KIND:MODEL, e.g. baseline:random, "
            "openai:gpt-4o, hf:/path/to/checkpoint"
        )
    return kind, model


def create_backend(spec: str, options: dict[str, Any] | None = None) -> Backend:
    import medgauge.backends  # noqa: F401 - registers the built-in backends

    kind, model = parse_model_spec(spec)
    from medgauge.backends.replicas import ReplicatedBackend, wants_replicas

    if wants_replicas(options):  # replicas=N: N Ray actors each building this spec
        assert options is not None
        return ReplicatedBackend(spec, options)
    return backends.get(kind)(model, options)
