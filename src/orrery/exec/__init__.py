"""Where independent tasks run: in this process, a local process pool, or Ray.

Every executor has one method, `map_unordered(fn, tasks)`, which yields `(index, result)` pairs as
tasks finish. Callers must make results independent of completion order (write by index), which
is what keeps outputs byte-identical for any number of workers."""

from .executors import Executor, InlineExecutor, ProcessExecutor, RayExecutor, TaskError, make_executor
from .threads import share_of_cores, torch_threads

__all__ = ["Executor", "InlineExecutor", "ProcessExecutor", "RayExecutor", "TaskError", "make_executor", "share_of_cores",
           "torch_threads"]
