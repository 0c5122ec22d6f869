"""Built-in benchmarks register themselves on import."""

from medgauge.benchmarks.base import Benchmark, benchmarks, create_benchmark

__all__ = ["Benchmark", "benchmarks", "create_benchmark"]
