"""medgauge: evaluate and stress-test medical LLMs and VLMs."""

__version__ = "0.1.0"
