"""Progress of long jobs on stderr: a rich bar on a terminal, plain lines when forced.

Shows done/total, rate, time left and failures so far. Nothing is printed unless enabled
(by default only when stderr is a terminal), so stdout stays pure data for pipes and cron.
"""

from __future__ import annotations

import sys
import time

from rekcli.cli import terminal


class ProgressReporter:
    def __init__(self, total: int, *, enabled: bool):
        self.total = total
        self.done = 0
        self.failed = 0
        self._bar = None
        self._started = time.monotonic()
        self._last_plain = 0.0
        if not enabled:
            self._mode = "off"
        elif terminal.current().stderr_is_tty:
            # The bar starts with the first result, not here: rich's refresh thread must not
            # exist yet when the batch forks its worker processes.
            self._mode = "bar"
        else:
            self._mode = "plain"

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeRemainingColumn)

        # rich's live display replaces sys.stdout by default, printing what is written to it
        # above the bar, on the bar's console: stderr. Results must stay on stdout, so it may
        # only do that when stdout is a terminal too (then both show on the same screen and
        # the bar stays whole); with stdout a file or a pipe, it is left alone.
        self._bar = Progress(TextColumn("[bold]rekcli"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                             TextColumn("[red]{task.fields[failures]}"),
                             console=Console(file=sys.stderr), transient=False,
                             redirect_stdout=terminal.current().stdout_is_tty)
        self._task = self._bar.add_task("batch", total=self.total, rate="", failures="")
        self._bar.start()

    def advance(self, *, failed: bool = False) -> None:
        self.done += 1
        self.failed += failed
        if self._mode == "bar":
            if self._bar is None:
                self._start_bar()
                self._bar.update(self._task, completed=self.done - 1)
            self._bar.update(self._task, advance=1, rate=self._rate_text(),
                             failures=f"{self.failed} failed" if self.failed else "")
        elif self._mode == "plain":
            now = time.monotonic()
            if now - self._last_plain >= 1.0 or self.done == self.total:
                self._last_plain = now
                sys.stderr.write(f"{self.done}/{self.total} done, {self._rate_text()}, "
                                 f"{self.failed} failed{self._time_left_text()}\n")
                sys.stderr.flush()

    def _time_left_text(self) -> str:
        """", about 0:01:23 left" at the rate so far ("" when done)."""
        left = self.total - self.done
        if left <= 0 or self.done == 0:
            return ""
        seconds = round(left * (time.monotonic() - self._started) / self.done)
        return f", about {seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d} left"

    def _rate_text(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return f"{self.done / elapsed:.1f} images/s"

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
