"""Reading JSON that may come from outside (a shard's KEY.json, a benchmark's answer key, a
checkpoint sidecar, a resume record): every failure is one ValueError naming where it came from,
including nesting deep enough to exhaust the parser's recursion (which Python reports as a
RecursionError, a RuntimeError)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_json(data: bytes | str, where: str | Path) -> Any:
    """JSON text -> data, or one ValueError naming `where`: invalid JSON, bytes that are not UTF-8,
    or nesting deep enough to exhaust the parser's recursion."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{where}: not UTF-8 text (byte {e.start})") from None
    except ValueError as e:
        raise ValueError(f"{where}: not valid JSON ({e})") from None


def read_json(path: str | Path) -> Any:
    """A JSON file -> data; ValueError naming the file when it is not valid JSON."""
    return load_json(Path(path).read_bytes(), path)
