"""The one Protocol every backend implements, and the registry that names them.

Adding a backend touches one file: subclass ``Backend``, decorate it with
``@backends.register("name")``, and make sure its module is imported in
``medgauge.backends.__init__`` (heavy dependencies imported lazily inside the class).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

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
    supports_images: ClassVar[bool] = True
    supports_continuations: ClassVar[bool] = False

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        self.model = model
        self.options = dict(options or {})
        self.concurrency = int(self.options.pop("concurrency", 8))
        if self.concurrency < 1:
            raise MedgaugeError(f"backend {self.kind}: concurrency must be >= 1")

    def identity(self) -> str:
        """Stable model identity used in cache keys; never contains secrets or URLs."""
        return f"{self.kind}:{self.model}"

    def display_name(self) -> str:
        return self.identity()

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
    return backends.get(kind)(model, options)
