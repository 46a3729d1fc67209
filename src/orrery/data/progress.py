"""Progress for long work, one way everywhere: a rich bar on a terminal; elsewhere (a log file, CI,
a pipe) plain lines through Python `logging` (logger `orrery`), at most one every `every_s`
seconds plus the last, so a 10-minute job in a non-terminal log shows where it is.

`configure_logging(quiet)` is what the CLI calls once: INFO lines on stderr, or warnings only."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("orrery")


def configure_logging(quiet: bool = False) -> None:
    """orrery's log lines on stderr as plain text (idempotent); quiet keeps warnings only."""
    if not any(getattr(h, "_orrery", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._orrery = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.WARNING if quiet else logging.INFO)


def on_terminal() -> bool:
    return sys.stderr.isatty()


class Progress:
    """`Progress(name, total, start, enabled)`; `update(done, **fields)`; `close()`. Fields are
    shown after the count (e.g. loss=0.12, samples_s=58.1)."""

    def __init__(self, name: str, total: int, start: int = 0, enabled: bool = True, unit: str = "",
                 every_s: float = 10.0, terminal: bool | None = None):
        self.name, self.total, self.unit, self.every_s = name, total, unit, every_s
        self.enabled = enabled
        self.bar = None
        self.done, self.fields = start, {}
        self.t0 = self.last = time.monotonic()
        self.start = start
        if enabled and (on_terminal() if terminal is None else terminal):
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Rich

            self.bar = Rich(TextColumn(f"[bold]{name}[/]"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[text]}"), TimeRemainingColumn(), console=None)
            self.bar.start()
            self.task = self.bar.add_task(name, total=total, completed=start, text="")

    def _text(self) -> str:
        return "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.fields.items())

    def update(self, done: int, **fields) -> None:
        self.done = done
        self.fields.update(fields)
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=done, text=self._text())
            return
        now = time.monotonic()
        if now - self.last >= self.every_s or done >= self.total:
            self.last = now
            self._line(now)

    def advance(self, n: int = 1, **fields) -> None:
        self.update(self.done + n, **fields)

    def _line(self, now: float) -> None:
        rate = (self.done - self.start) / max(now - self.t0, 1e-9)
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f", ~{left:.0f} s left" if left == left and self.done < self.total else ""
        text = self._text()
        log.info(f"{self.name}: {self.done}/{self.total} {self.unit}".rstrip()
                 + (f"  {text}" if text else "") + f" ({now - self.t0:.0f} s{eta})")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        elif self.enabled and self.done < self.total and self.done > self.start:
            self._line(time.monotonic())
        self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
