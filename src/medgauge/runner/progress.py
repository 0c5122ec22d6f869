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
    """Wraps rich's progress bar; ``Progress.quiet()`` shows nothing (tests, piped output)."""

    def __init__(self, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        # In logs and pipes (nohup, SLURM) a plain line every LOG_EVERY_S seconds instead of a bar.
        self.log_lines = enabled and not self.console.is_terminal
        self._label = ""
        self._total = 0
        self._last_log = 0.0
        self._bar: RichProgress | None = None
        self._task = None
        self.errors = 0
        self.invalid = 0
        self.count = 0
        self._t0 = 0.0

    @classmethod
    def quiet(cls) -> Progress:
        return cls(enabled=False)

    def start_task(self, label: str, total: int) -> None:
        self.errors = self.invalid = self.count = 0
        self._t0 = self._last_log = time.perf_counter()
        self._label, self._total = label, total
        if not self.enabled:
            return
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:>7} it/s"),
            TimeRemainingColumn(),
            TextColumn("[red]err {task.fields[errors]}[/] [yellow]invalid {task.fields[invalid]}"),
            console=self.console,
            transient=False,
            refresh_per_second=5,
        )
        self._bar.start()
        self._task = self._bar.add_task(label, total=total, errors=0, invalid=0, rate="-")

    def advance(self, errors: int = 0, invalid: int = 0, skipped: bool = False) -> None:
        self.errors += errors
        self.invalid += invalid
        self.count += 1
        if self.log_lines and time.perf_counter() - self._last_log >= LOG_EVERY_S:
            self._last_log = time.perf_counter()
            elapsed = self._last_log - self._t0
            self.console.print(f"{self._label}: {self.count}/{self._total} done, "
                               f"{self.count / elapsed:.1f}/s, {self.errors} errors, "
                               f"{self.invalid} invalid", highlight=False, soft_wrap=True)
        if self._bar is None or self._task is None:
            return
        elapsed = time.perf_counter() - self._t0
        rate = f"{self.count / elapsed:.1f}" if elapsed > 0 else "-"
        self._bar.update(self._task, advance=1, errors=self.errors, invalid=self.invalid,
                         rate=rate)

    def finish_task(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._bar = None
        self._task = None
