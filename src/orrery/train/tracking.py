"""Experiment tracking beside metrics.csv: TensorBoard event files in RUN/tensorboard/, opt-in
(`train.tensorboard=true`, or `--tensorboard`). Uses `torch.utils.tensorboard`, which needs the
`tensorboard` package (`pip install 'orrery[tensorboard]'`); asking for it without the package is
one line before training starts."""

from __future__ import annotations

from pathlib import Path


class Tracker:
    """Scalars to TensorBoard, or nothing when disabled."""

    def __init__(self, run_dir: Path, enabled: bool, purge_step: int | None = None):
        self.writer = None
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise RuntimeError("train.tensorboard: the tensorboard package is not installed; install it with: "
                               "pip install 'orrery[tensorboard]'") from None
        # purge_step: a resumed run drops the events a killed run logged past its checkpoint
        self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=purge_step)

    def log(self, step: int, values: dict[str, float]) -> None:
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(k, v, step)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
