"""The shared training loop: configs, schedule, exact resume, checkpoints, metrics, DDP on gloo."""

from __future__ import annotations

import csv
import os

import pytest
import torch
from pydantic import Field

from orrery.checkpoint import latest_checkpoint, load_checkpoint, model_weights
from orrery.config import Config, ConfigError, parse_sets, resolve, validate
from orrery.train import TrainConfig, train
from orrery.train.batches import StepBatchSampler
from orrery.train.schedule import warmup_cosine


class Regressor(torch.nn.Module):
    """y = W x + b with a noisy target drawn from the generator (exercises the noise path)."""

    def __init__(self, noise: float = 0.0):
        super().__init__()
        self.lin = torch.nn.Linear(4, 2)
        self.noise = noise

    def loss(self, batch, generator):
        pred = self.lin(batch["x"])
        target = batch["y"]
        if self.noise:
            target = target + self.noise * torch.randn(target.shape, generator=generator, device=target.device)
        loss = ((pred - target) ** 2).mean()
        return loss, {"mse": float(loss.detach())}


class Pairs(torch.utils.data.Dataset):
    def __init__(self, n: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 4, generator=g)
        w = torch.tensor([[1.0, -2.0, 0.5, 0.0], [0.0, 1.0, 1.0, -1.0]])
        self.y = self.x @ w.T + 0.3

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "y": self.y[i]}


class ToyConfig(Config):
    width: int = 4
    train: TrainConfig = Field(default_factory=TrainConfig)


def _cfg(**kw) -> TrainConfig:
    base = dict(steps=8, batch_size=8, lr=0.05, warmup=0.1, val_every=4, val_batches=2, ckpt_every=4,
                log_every=2, device="cpu", ema_decay=0.9)
    base.update(kw)
    return TrainConfig(**base)


def test_config_rejects_unknown_keys_and_bad_types_with_the_path():
    with pytest.raises(ConfigError, match=r"train\.lrr: unknown key"):
        validate(ToyConfig, {"train": {"lrr": 1e-3}})
    with pytest.raises(ConfigError, match=r"train\.steps: expected an integer"):
        validate(ToyConfig, {"train": {"steps": "many"}})
    with pytest.raises(ConfigError, match=r"train\.precision: expected one of"):
        validate(ToyConfig, {"train": {"precision": "fp8"}})
    with pytest.raises(ConfigError, match=r"train\.warmup: .*less than 1"):
        validate(ToyConfig, {"train": {"warmup": 2.0}})
    cfg = validate(ToyConfig, {"width": 3, "train": {"betas": [0.8, 0.9], "lr": 1}})
    assert cfg.train.betas == (0.8, 0.9) and isinstance(cfg.train.lr, float)


def test_presets_and_overrides_layer_in_order():
    presets = {"tiny": {"width": 2, "train": {"steps": 10}}, "small": {"width": 8}}
    cfg = resolve(ToyConfig, presets, "tiny", ["train.lr=3e-3", "train.betas=[0.5, 0.6]"])
    assert (cfg.width, cfg.train.steps, cfg.train.lr, cfg.train.betas) == (2, 10, 3e-3, (0.5, 0.6))
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        resolve(ToyConfig, presets, "huge")
    with pytest.raises(ConfigError, match="key=value"):
        parse_sets(["train.lr"])
    with pytest.raises(ConfigError, match=r"model: unknown key"):
        resolve(ToyConfig, presets, "small", ["model.depth=3"])


def test_warmup_cosine_closed_form():
    assert warmup_cosine(0.05, 0.1, 0.1) == pytest.approx(0.5)
    assert warmup_cosine(0.1, 0.1, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(0.55, 0.1, 0.1) == pytest.approx(0.1 + 0.9 * 0.5)  # half-way through the cosine
    assert warmup_cosine(1.0, 0.1, 0.1) == pytest.approx(0.1)


def test_batches_partition_epochs_and_split_across_ranks():
    s = StepBatchSampler(10, 4, seed=3)
    first = s.global_indices(0) + s.global_indices(1) + s.global_indices(2)[:2]
    assert sorted(first) == list(range(10))  # one epoch without replacement
    r0 = StepBatchSampler(10, 4, 3, rank=0, world_size=2)
    r1 = StepBatchSampler(10, 4, 3, rank=1, world_size=2)
    b0, b1 = next(iter(r0)), next(iter(r1))
    assert sorted(b0 + b1) == sorted(s.global_indices(0))


def test_training_learns_and_resume_after_a_kill_is_identical(tmp_path):
    torch.manual_seed(0)
    data, val = Pairs(64), Pairs(16, seed=1)
    cfg = _cfg()
    conf = ToyConfig(train=cfg)

    straight = Regressor(noise=0.1)
    ref = {k: v.clone() for k, v in straight.state_dict().items()}
    res = train(straight, data, val, cfg, tmp_path / "a", config=conf, data_fingerprint="fp", progress=False)
    assert res.step == 8

    killed = Regressor(noise=0.1)
    killed.load_state_dict(ref)
    train(killed, data, val, cfg, tmp_path / "b", config=conf, data_fingerprint="fp", progress=False, stop_after=5)
    assert latest_checkpoint(tmp_path / "b") == 5
    resumed = Regressor(noise=0.1)  # a fresh process: weights come only from the checkpoint
    train(resumed, data, val, cfg, tmp_path / "b", config=conf, data_fingerprint="fp", progress=False)

    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    for k, v in model_weights(a).items():
        assert torch.equal(v, model_weights(b)[k]), k
    assert a.sidecar["step"] == 8 and a.sidecar["data_fingerprint"] == "fp"
    assert a.sidecar["config"]["train"]["lr"] == 0.05 and a.sidecar["code_version"].startswith("0.")

    rows = list(csv.DictReader(open(tmp_path / "b" / "metrics.csv")))
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(set(steps)) and steps[-1] == 8  # no duplicated rows after the resume
    first, last = float(rows[0]["train/mse"]), float(rows[-1]["train/mse"])
    assert last < 0.5 * first
    assert "val/loss" in rows[-1]


def test_resume_refuses_other_data_or_other_settings(tmp_path):
    cfg = _cfg(steps=2, val_every=0)
    train(Regressor(), Pairs(16), None, cfg, tmp_path, config=ToyConfig(train=cfg), data_fingerprint="fp",
          progress=False)
    with pytest.raises(ValueError, match="other data"):
        train(Regressor(), Pairs(16), None, cfg, tmp_path, config=ToyConfig(train=cfg), data_fingerprint="x",
              progress=False)
    with pytest.raises(ValueError, match=r"train\.lr"):
        cfg2 = _cfg(steps=2, val_every=0, lr=0.1)
        train(Regressor(), Pairs(16), None, cfg2, tmp_path, config=ToyConfig(train=cfg2),
              data_fingerprint="fp", progress=False)


def test_incomplete_checkpoint_is_ignored(tmp_path):
    cfg = _cfg(steps=4, val_every=0)
    train(Regressor(), Pairs(16), None, cfg, tmp_path, config=ToyConfig(train=cfg), data_fingerprint="fp",
          progress=False)
    ck = tmp_path / "checkpoints"
    (ck / "step-9.safetensors").write_bytes(b"half a file")  # killed before its sidecar was written
    assert latest_checkpoint(tmp_path) == 4


def test_non_finite_loss_stops_with_a_clear_error(tmp_path):
    class Bad(Regressor):
        def loss(self, batch, generator):
            return self.lin(batch["x"]).sum() * float("nan"), {}

    cfg = _cfg(steps=2, val_every=0)
    with pytest.raises(FloatingPointError, match="not finite"):
        train(Bad(), Pairs(16), None, cfg, tmp_path, config=ToyConfig(train=cfg), data_fingerprint="fp",
              progress=False)


def _ddp_worker(rank: int, world: int, rendezvous: str, run_dir: str, init: dict) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    # A file rendezvous needs no port: a free port picked in advance could be taken by a concurrent
    # test (Ray opens many) before the workers bind it, which made this test fail once under xdist.
    torch.distributed.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    model = Regressor()
    model.load_state_dict(init)
    cfg = _cfg(steps=4, val_every=2, ckpt_every=0, ema_decay=0.0)
    train(model, Pairs(64), Pairs(16, 1), cfg, run_dir, config=ToyConfig(train=cfg), data_fingerprint="fp",
          progress=False)


def test_ddp_two_gloo_processes_match_one_process(tmp_path):
    torch.manual_seed(0)
    init = Regressor().state_dict()
    cfg = _cfg(steps=4, val_every=2, ckpt_every=0, ema_decay=0.0)
    single = Regressor()
    single.load_state_dict(init)
    train(single, Pairs(64), Pairs(16, 1), cfg, tmp_path / "one", config=ToyConfig(train=cfg),
          data_fingerprint="fp", progress=False)
    torch.multiprocessing.spawn(_ddp_worker, args=(2, str(tmp_path / "rendezvous"), str(tmp_path / "two"), init),
                                nprocs=2)
    two = model_weights(load_checkpoint(tmp_path / "two"))
    # The mean of the two half-batch gradients is the full-batch gradient: same weights up to rounding.
    for k, v in single.state_dict().items():
        torch.testing.assert_close(two[k], v, rtol=1e-5, atol=1e-6)


def test_bf16_autocast_path_runs_on_cpu(tmp_path):
    """The CUDA recipe (bf16 autocast) exercised on CPU: same code path, weights stay float32."""
    cfg = _cfg(steps=3, val_every=3, precision="bf16")
    model = Regressor()
    res = train(model, Pairs(32), Pairs(8, 1), cfg, tmp_path, config=ToyConfig(train=cfg), data_fingerprint="fp",
                progress=False)
    assert res.step == 3 and all(p.dtype == torch.float32 for p in model.parameters())
    assert "val/loss" in res.last
