"""A progress display: done/total, rate, ETA, errors and invalid answers so far."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

LOG_EVERY_S = 30.0


class Progress:
    """Wraps rich's progress bar, one line per task (tasks may run concurrently);
    ``Progress.quiet()`` shows nothing (tests, piped output)."""

    def __init__(self, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        # In logs and pipes (nohup, SLURM) a plain line every LOG_EVERY_S seconds instead of a bar.
        self.log_lines = enabled and not self.console.is_terminal
        self._bar: RichProgress | None = None
        self._open = 0

    @classmethod
    def quiet(cls) -> Progress:
        return cls(enabled=False)

    def task(self, label: str, total: int) -> TaskProgress:
        if self.enabled and self._bar is None:
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]:>7} it/s"),
                TimeRemainingColumn(),
                TextColumn("[red]err {task.fields[errors]}[/] "
                           "[yellow]invalid {task.fields[invalid]}"),
                console=self.console,
                transient=False,
                refresh_per_second=5,
            )
            self._bar.start()
        self._open += 1
        return TaskProgress(self, label, total)

    def _closed(self) -> None:
        self._open -= 1
        if self._open <= 0 and self._bar is not None:
            self._bar.stop()
            self._bar = None


class TaskProgress:
    """The progress of one task: done/total, rate, errors and invalid answers so far."""

    def __init__(self, owner: Progress, label: str, total: int) -> None:
        self.owner = owner
        self.label, self.total = label, total
        self.errors = self.invalid = self.count = 0
        self._t0 = self._last_log = time.perf_counter()
        self._id = (owner._bar.add_task(label, total=total, errors=0, invalid=0, rate="-")
                    if owner._bar is not None else None)

    def advance(self, errors: int = 0, invalid: int = 0, skipped: bool = False) -> None:
        self.errors += errors
        self.invalid += invalid
        self.count += 1
        now = time.perf_counter()
        if self.owner.log_lines and now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            elapsed = now - self._t0
            self.owner.console.print(f"{self.label}: {self.count}/{self.total} done, "
                                     f"{self.count / elapsed:.1f}/s, {self.errors} errors, "
                                     f"{self.invalid} invalid", highlight=False, soft_wrap=True)
        bar = self.owner._bar
        if bar is None or self._id is None:
            return
        elapsed = now - self._t0
        rate = f"{self.count / elapsed:.1f}" if elapsed > 0 else "-"
        bar.update(self._id, advance=1, errors=self.errors, invalid=self.invalid, rate=rate)

    def finish(self) -> None:
        self.owner._closed()
