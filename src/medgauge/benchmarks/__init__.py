"""Benchmarks.  Every module here is imported, so a new benchmark is one new file that registers
itself with ``@benchmarks.register("name")``."""

from medgauge.benchmarks.base import Benchmark, benchmarks, create_benchmark
from medgauge.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = ["Benchmark", "benchmarks", "create_benchmark"]
