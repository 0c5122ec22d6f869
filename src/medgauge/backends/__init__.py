"""Backends.  Every module here is imported, so a new backend is one new file that registers
itself with ``@backends.register("kind")``; heavy dependencies are imported lazily inside it."""

from medgauge.backends.base import Backend, backends, create_backend, parse_model_spec
from medgauge.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = ["Backend", "backends", "create_backend", "parse_model_spec"]
