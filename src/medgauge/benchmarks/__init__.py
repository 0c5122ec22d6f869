"""Built-in benchmarks register themselves on import."""

from medgauge.benchmarks.base import Benchmark, benchmarks, create_benchmark

__all__ = ["Benchmark", "benchmarks", "create_benchmark"]
import medgauge.benchmarks.custom
import medgauge.benchmarks.embedded_mcq
import medgauge.benchmarks.mcq_vqa
import medgauge.benchmarks.mediconfusion
import medgauge.benchmarks.medxpertqa
import medgauge.benchmarks.text_qa
import medgauge.benchmarks.vqa  # noqa: F401
from medgauge.benchmarks import phantom  # noqa: F401
