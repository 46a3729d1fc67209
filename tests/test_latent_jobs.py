"""The latent families in the jobs: `orrery quickstart --model latent|autoregressive` trains a
tokenizer first (or takes one), and the engine spec's `model.tokenizer` reaches every training."""

from __future__ import annotations

import pytest
import yaml

from orrery.config import ConfigError

TINY_SPEC = """
name: tiny-quickstart
seed: 0
video: {size: 32, fps: 15, frames: 17, physics_hz: 240, codec: yuv444p, crf: 12}
shard_size: 8
scenarios:
  - scenario: bounce
    clips: {train: 2, val: 1, test: 1, test_ood: 1}
    params:
      restitution: {range: [0.5, 0.9], gap: [0.65, 0.75]}
    ood:
      restitution: [[0.65, 0.75]]
"""
TINY_DIT = ["model.d_model=16", "model.depth=1", "model.heads=2", "model.cond_dim=8", "model.text_dim=8",
            "model.steps=1", "train.steps=2", "train.batch_size=4", "train.val_every=0", "train.log_every=1"]
TINY_TOK = ["model.channels=8", "model.latent_channels=4", "train.steps=2", "train.batch_size=2",
            "train.val_every=0", "train.ckpt_every=0", "train.log_every=1"]


@pytest.fixture()
def tiny_spec(tmp_path, monkeypatch):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPEC)
    monkeypatch.setattr("orrery.engine.quickstart.embedded_spec", lambda name="quickstart": path)
    return path


def test_quickstart_trains_a_compressing_tokenizer_then_the_latent_model(tmp_path, tiny_spec):
    from rich.console import Console

    from orrery.engine.quickstart import quickstart
    from orrery.models.registry import load_world_model

    out = tmp_path / "qs"
    res = quickstart(out, family="latent", sets=TINY_DIT, tokenizer_sets=["model.compression=4x4x4", *TINY_TOK],
                     console=Console(quiet=True))
    assert res["tokenizer"] == str(out / "tokenizer") and (out / "tokenizer" / "tokenizer.safetensors").exists()
    side = yaml.safe_load((out / "tokenizer" / "config.yaml").read_text())
    assert side["model"]["compression"] == "4x4x4" and side["model"]["colour_weight"] == 1.0
    wm = load_world_model(out / "run")
    assert wm.time_factor == 4 and wm.tokenizer.cfg.kind == "continuous"
    import json

    summary = json.loads((out / "eval-test" / "summary.json").read_text())
    assert "floor:tokenizer" in summary["models"] and (out / "report.html").exists()


def test_quickstart_refuses_a_tokenizer_it_cannot_use(tmp_path, tiny_spec):
    from orrery.engine.quickstart import quickstart

    with pytest.raises(ConfigError, match="works on pixels"):
        quickstart(tmp_path / "a", family="pixel", tokenizer_sets=["model.compression=4x4x4"])
    with pytest.raises(ConfigError, match="no such tokenizer run folder"):
        quickstart(tmp_path / "b", family="autoregressive", tokenizer=tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="model.compresion"):
        quickstart(tmp_path / "c", family="latent", tokenizer_sets=["model.compresion=4x4x4"])
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()  # refused before any work


def engine_spec(**model) -> dict:
    from test_engine import SMOKE

    return dict(SMOKE, model={"family": "latent", "preset": "tiny", "sets": TINY_DIT, **model})


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory):
    """An exported continuous and an FSQ tokenizer run (untrained weights are enough here)."""
    from orrery.recipes.tokenizer import build_model, resolve_config
    from orrery.tokenizer.checkpoint import save_tokenizer

    root = tmp_path_factory.mktemp("toks")
    out = {}
    for kind in ("continuous", "fsq"):
        cfg = resolve_config("tiny", sets=[f"model.kind={kind}", "model.channels=8"])
        (root / kind).mkdir()
        save_tokenizer(root / kind / "tokenizer.safetensors", build_model(cfg.model, 0))
        out[kind] = str(root / kind)
    return out


def test_the_engine_spec_names_the_tokenizer_a_latent_family_needs(tokenizers, tmp_path):
    from orrery.engine.spec import parse_engine_spec

    spec, _ = parse_engine_spec(engine_spec(tokenizer=tokenizers["continuous"]))
    assert spec.model.tokenizer == tokenizers["continuous"]
    with pytest.raises(ConfigError, match="model.tokenizer: the latent family needs a continuous tokenizer"):
        parse_engine_spec(engine_spec())
    with pytest.raises(ConfigError, match="model.tokenizer: .*needs a discrete"):
        parse_engine_spec(engine_spec(family="autoregressive", sets=[], tokenizer=tokenizers["continuous"]))
    with pytest.raises(ConfigError, match=f"model.tokenizer: tokenizer {tmp_path}/gone: no such"):
        parse_engine_spec(engine_spec(tokenizer=str(tmp_path / "gone")))
    with pytest.raises(ConfigError, match="model.tokenizer: the deterministic family works on pixels"):
        parse_engine_spec(engine_spec(family="deterministic", sets=[], tokenizer=tokenizers["fsq"]))


def test_engine_training_passes_the_tokenizer(tokenizers, tmp_path, monkeypatch):
    from orrery.engine.loop import Engine
    from orrery.engine.spec import parse_engine_spec

    spec, world = parse_engine_spec(engine_spec(family="autoregressive", sets=[], tokenizer=tokenizers["fsq"]))
    seen = {}
    monkeypatch.setattr("orrery.recipes.world.train_world", lambda *a, **kw: seen.update(kw))
    Engine(spec, world, tmp_path, progress=False).train(tmp_path / "data", tmp_path / "run", 3, 0, None)
    assert seen["tokenizer"] == tokenizers["fsq"]
