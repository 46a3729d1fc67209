"""Why a training run stops before `train.steps`, said out loud.

- `StopRequest`: SIGINT (Ctrl-C) or SIGTERM asks the loop to stop at the end of the current
  step; it then writes a checkpoint, says that rerunning the same command resumes from it, and
  raises KeyboardInterrupt (the CLI exits 130). A second signal stops at once (losing the steps
  since the last checkpoint). Under DDP every rank stops at the same step (`agree`).
- the opt-in wall-clock cap (`train.time_limit_min`) is announced when it ends a run, on the
  console and in the result (`TrainResult.stopped_by`), never silently."""

from __future__ import annotations

import signal
import sys
import threading

import torch
import torch.distributed as dist

from .device import Runtime

STEPS, TIME_LIMIT, INTERRUPTED, STOP_AFTER = "steps", "time_limit", "interrupted", "stop_after"


def say(line: str) -> None:
    """One line on stderr (where the progress bar and the CLI's errors go)."""
    print(line, file=sys.stderr, flush=True)


class StopRequest:
    """Catches SIGINT and SIGTERM while training (in the main thread; elsewhere it is inert)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:  # asked twice: stop now
            raise KeyboardInterrupt
        self.signum = signum
        say(f"\ntrain: {signal.Signals(signum).name} received: stopping after this step and writing a "
            "checkpoint (press Ctrl-C again to stop at once)")

    @property
    def requested(self) -> bool:
        return self.signum is not None


def agree(rt: Runtime, time_over: bool, interrupted: bool) -> tuple[bool, bool]:
    """Under DDP: stop every rank at the same step (the time cap is rank 0's clock; an interrupt
    on any rank counts). Single-process: the flags as they are."""
    if not rt.distributed:
        return time_over, interrupted
    t = torch.tensor([float(time_over and rt.is_main), float(interrupted)],
                     device=rt.device if rt.device.type == "cuda" else "cpu")
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t[0].item()), bool(t[1].item())


def final_line(stopped_by: str, step: int, steps: int, limit_min: float) -> str:
    """Why the run ended, for the console and the CLI's last line."""
    if stopped_by == TIME_LIMIT:
        return (f"stopped at step {step} of {steps}: the time limit train.time_limit_min={limit_min:g} was reached "
                "(the learning-rate schedule was shortened to fit); set a larger limit, or 0 for none, and rerun "
                "to continue")
    if stopped_by == INTERRUPTED:
        return f"interrupted at step {step} of {steps}; rerun the same command to resume from the checkpoint"
    if stopped_by == STOP_AFTER:
        return f"paused at step {step} of {steps} (stop_after)"
    return f"reached train.steps={steps}"
