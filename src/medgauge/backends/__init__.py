"""Built-in backends register themselves on import; heavy ones import their deps lazily."""

from medgauge.backends.base import Backend, backends, create_backend, parse_model_spec

__all__ = ["Backend", "backends", "create_backend", "parse_model_spec"]
from medgauge.backends import (  # noqa: F401
    baselines,
    hf,
    openai_compat,
    replay,
)
