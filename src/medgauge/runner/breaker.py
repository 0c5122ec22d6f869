"""Stop a task early when every request fails (a dead server, a wrong model name behind a proxy
that answers 500): after ``limit`` consecutive samples whose items all failed, the task stops
with one line instead of sending every remaining sample through its retries.

``limit`` is the backend option ``stop_after_failures`` (default 25; 0 never stops).
"""

from __future__ import annotations

from collections.abc import Sequence

from medgauge.types import ItemResult, MedgaugeError


class TaskStopped(MedgaugeError):
    """The task was stopped because requests kept failing; what is stored stays, and rerunning
    the same command resumes (the failed samples are retried)."""


class FailureStreak:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.streak = 0

    def record(self, items: Sequence[ItemResult]) -> None:
        """Count one solved sample; raise ``TaskStopped`` when the streak reaches ``limit``."""
        if not items or any(it.error is None for it in items):
            self.streak = 0
            return
        self.streak += 1
        if self.limit and self.streak >= self.limit:
            raise TaskStopped(f"stopped: the last {self.streak} samples all failed (last error: "
                              f"{items[-1].error}); fix the server, then rerun to resume")
