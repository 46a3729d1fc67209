"""The floor plan holds: parts import only the parts below them (docs/design.md), and loading a
model for inference imports no trainer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "orrery"

# part -> the parts it may import (besides itself). Leaves first; cli may import anything.
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "data": {"config"},
    "exec": {"config"},
    "checkpoint": {"config", "data"},
    "report": {"config", "data"},
    "sim": {"config", "data", "exec"},
    "curate": {"config", "data", "exec"},
    "tokenizer": {"config", "data", "checkpoint"},
    "train": {"config", "data", "checkpoint"},
    "verify": {"config", "data", "sim"},
    "models": {"config", "data", "checkpoint", "sim", "tokenizer", "verify"},
    "eval": {"config", "data", "checkpoint", "sim", "tokenizer", "models", "report", "exec", "verify"},
    "recipes": {"config", "data", "checkpoint", "sim", "tokenizer", "models", "train", "exec", "verify"},
    "act": {"config", "data", "checkpoint", "sim", "tokenizer", "models", "report", "exec", "verify"},
    "engine": {"config", "data", "checkpoint", "sim", "tokenizer", "models", "train", "recipes", "eval", "act", "report",
               "exec", "verify"},
}
ROOT_NAMES = {"__version__"}  # `from orrery import __version__` is no part


def imports_of(path: Path, src: Path = SRC) -> list[tuple[int, str]]:
    """(line, imported part) for every import of an orrery module in a file (relative imports
    resolved), including imports inside functions."""
    rel = path.relative_to(src).parts
    package = ["orrery", *rel[:-1]]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "orrery" and len(parts) > 1 and parts[1] not in ROOT_NAMES:
                out.append((node.lineno, parts[1]))
    return out


def forbidden_edges(src: Path = SRC) -> list[str]:
    bad = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).parts
        part = rel[0].removesuffix(".py")
        if part in ("cli", "__init__", "__main__"):
            continue
        if part not in ALLOWED:
            bad.append(f"{path.relative_to(src)}: part {part!r} is not in the design's table (tests/test_architecture.py)")
            continue
        for line, target in imports_of(path, src):
            if target != part and target not in ALLOWED[part]:
                bad.append(f"{path.relative_to(src)}:{line}: {part} imports {target}")
    return bad


def test_no_part_imports_a_part_above_it():
    assert forbidden_edges() == []


def test_the_rule_catches_a_forbidden_import(tmp_path):
    """The checker itself: a models file that imports the training loop is reported."""
    fake = tmp_path / "orrery"
    (fake / "models").mkdir(parents=True)
    (fake / "models" / "bad.py").write_text("from ..train import train\n")
    (fake / "train").mkdir()
    (fake / "train" / "ok.py").write_text("from ..config import Config\n")
    assert forbidden_edges(fake) == ["models/bad.py:1: models imports train"]


@pytest.mark.parametrize("family", ["pixel", "deterministic"])
def test_loading_a_model_imports_no_trainer(tmp_path, family):
    """A run folder is loaded and rolled out in a fresh process that never imports orrery.train or
    orrery.recipes."""
    code = f"""
import sys, numpy as np, torch
from orrery.checkpoint import save_checkpoint
from orrery.config import to_dict
from orrery.models.registry import get_family, load_world_model
fam = get_family({family!r})
cfg = fam.config(context=2, channels=(8, 8), cond_dim=8, text_dim=8)
net = fam.net(cfg)
save_checkpoint({str(tmp_path)!r}, 1, net, ema=None, optimizer=None, generator=None,
                config={{"kind": {family!r}, "model": to_dict(cfg)}}, data_fingerprint="x")
wm = load_world_model({str(tmp_path)!r})
out = wm.rollout(np.zeros((1, 2, 16, 16, 3), np.uint8), 2)
assert out.shape == (1, 2, 16, 16, 3)
loaded = sorted(m for m in sys.modules if m.startswith(("orrery.train", "orrery.recipes")))
assert not loaded, loaded
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
