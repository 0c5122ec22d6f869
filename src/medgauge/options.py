"""Option values, parsed once (``as_bool``, ``as_number``): ``--model-opt``, ``--bench-opt``,
probe and step options arrive as text from the command line and as typed values from a YAML or
TOML config."""

from __future__ import annotations

from typing import Any

from medgauge.types import MedgaugeError

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def as_bool(value: Any, name: str, where: str = "") -> bool:
    """``value`` as a bool: a bool, 0 or 1, or the text true/false, yes/no, on/off, 1/0 (any
    case).  Anything else raises ``MedgaugeError`` naming the option (and ``where``: the
    backend, benchmark or probe it belongs to), never a silent False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    prefix = f"{where}: " if where else ""
    raise MedgaugeError(f"{prefix}option {name} must be true or false, got {value!r}")


def as_number(value: Any, name: str, kind: type = int, where: str = "",
              minimum: float | None = None) -> Any:
    """``value`` converted to ``kind`` (``int`` or ``float``; a bool is refused), at least
    ``minimum`` when given.  Anything else raises ``MedgaugeError`` naming the option and
    ``where`` it belongs (``backend hf``, ``retriever``, ...)."""
    prefix = f"{where}: " if where else ""
    try:
        if isinstance(value, bool):
            raise ValueError
        out = kind(value)
    except (TypeError, ValueError):
        raise MedgaugeError(f"{prefix}option {name} must be {kind.__name__}, "
                            f"got {value!r}") from None
    if minimum is not None and out < minimum:
        raise MedgaugeError(f"{prefix}option {name} must be >= {minimum}, got {value!r}")
    return out
