from medgauge.metrics.accuracy import accuracy, grouped

__all__ = ["accuracy", "grouped"]
