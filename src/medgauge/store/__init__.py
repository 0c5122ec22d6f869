from medgauge.store.sqlite import Store

__all__ = ["Store"]
