"""World models over tokenizers that compress time: the chunk arithmetic, causality of the chunked
rollout (teacher-forced: a change to a frame never changes a latent predicted before it), rollouts
of any horizon, training through `train_world`, and a run whose tokenizer folder moved."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from orrery.models.base import Condition
from orrery.models.chunks import chunks_for, latent_actions, latent_context, padded_context
from orrery.models.registry import get_family, load_world_model
from orrery.tokenizer.config import TokenizerConfig
from orrery.tokenizer.model import VideoTokenizer

torch.set_num_threads(1)
SIZE, TC, S_T = 16, 4, 4


def test_chunk_arithmetic():
    assert [latent_context(tc, 4) for tc in (1, 2, 4, 5, 6, 9)] == [1, 2, 2, 2, 3, 3]
    assert [padded_context(tc, 4) for tc in (1, 2, 4, 5, 6, 9)] == [1, 5, 5, 5, 9, 9]
    assert [latent_context(tc, 1) for tc in (1, 4)] == [1, 4] and padded_context(4, 1) == 4  # frame by frame
    assert [chunks_for(h, 4) for h in (1, 4, 5, 12)] == [1, 1, 2, 3]
    acts = torch.arange(1, 7, dtype=torch.float32).view(1, 6, 1)  # rows 0..5 hold 1..6
    # padded position p is row p - 1; position 0 is a padded copy; rows past the sixth are zeros
    lat = latent_actions(acts, -1, 1, 4, 2)
    assert lat[0].tolist() == [[0, 1], [2, 3], [4, 5], [6, 0]]
    assert latent_actions(acts, 0, 0, 6, 1)[0, :, 0].tolist() == [1, 2, 3, 4, 5, 6]  # s_t = 1: the rows


def model(family: str, seed: int = 0):
    """A latent or autoregressive model over a 4x4x4 tokenizer, every weight random (zero-initialised
    output layers would otherwise hide a leak: a network that outputs zeros is trivially causal)."""
    fam = get_family(family)
    torch.manual_seed(seed)
    lc = latent_context(TC, S_T)
    if family == "latent":
        tok = VideoTokenizer(TokenizerConfig(compression="4x4x4", channels=8, latent_channels=4))
        cfg = fam.config(context=TC, time_factor=S_T, latent_channels=4, grid=(4, 4), d_model=16, depth=2, heads=2,
                         cond_dim=8, text_dim=8, steps=2)
    else:
        tok = VideoTokenizer(TokenizerConfig(kind="fsq", compression="4x4x4", channels=8, fsq_levels=(4, 4)))
        cfg = fam.config(context=TC, time_factor=S_T, gpt={"vocab": 16, "tokens_per_frame": 16, "max_frames": lc + 1,
                                                           "d_model": 16, "n_layer": 2, "n_head": 2, "text_dim": 8})
    net = fam.net(cfg)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
        for p in tok.parameters():  # perturbed, not replaced: FSQ would saturate to one token
            p.add_(torch.randn_like(p) * 0.05)
    return fam.adapter(net, tok, 0, "cpu")


def clip(t: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (1, t, SIZE, SIZE, 3), dtype=np.uint8)


def predictions(wm, frames: np.ndarray, monkeypatch) -> torch.Tensor:
    """Teacher-forced predictions [B, k, ...]; for the GPT, the logits of every sampled token
    (sampled tokens would hide small changes: the same uniform draw picks the same token)."""
    if wm.name != "autoregressive":
        return wm.teacher_forced(frames)
    from orrery.models.nets import gpt

    logits: list[torch.Tensor] = []

    def greedy(lg, generator, temperature, top_p):
        logits.append(lg.clone())
        return lg.argmax(-1)

    monkeypatch.setattr(gpt, "sample_token", greedy)
    k = wm.teacher_forced(frames).shape[1]
    return torch.stack(logits, dim=1).reshape(frames.shape[0], k, -1)


@pytest.mark.parametrize("family", ["latent", "autoregressive"])
def test_a_changed_frame_never_changes_a_latent_predicted_before_it(family, monkeypatch):
    """Teacher-forced over 5 + 3 x 4 frames (latent 0 = frame 0, latent j = frames 4j - 3 .. 4j):
    latent j is predicted from latents j - 2, j - 1, i.e. frames <= 4 (j - 1). Changing frame f
    leaves every prediction of a latent j with 4 (j - 1) < f as it was, and changes the first one
    that sees it (the check is not blind)."""
    wm = model(family)
    lc = wm.latent_context
    frames = clip(padded_context(TC, S_T) + 3 * S_T)
    base = predictions(wm, frames, monkeypatch)
    assert base.shape[1] == 3
    for f in range(1, frames.shape[1]):
        changed = frames.copy()
        changed[0, f] = 255 - changed[0, f]
        pred = predictions(wm, changed, monkeypatch)
        for k in range(base.shape[1]):
            j = lc + k  # the latent frame predicted
            if S_T * (j - 1) < f:
                assert torch.equal(pred[:, k], base[:, k]), f"frame {f} changed the prediction of latent {j}"
        first = next((k for k in range(base.shape[1]) if S_T * (lc + k - 1) >= f), None)
        if first is not None:
            assert not torch.equal(pred[:, first], base[:, first]), f"frame {f}: latent {lc + first} blind to it"


@pytest.mark.parametrize("family", ["latent", "autoregressive"])
def test_chunked_rollouts_of_any_horizon_agree_on_their_common_frames(family):
    """4 context frames (padded to 5), horizons that are and are not whole chunks: the frames of a
    short rollout are the first frames of a long one (same seeds; the decoder is causal)."""
    wm = model(family)
    ctx = clip(TC, seed=1)
    long = wm.rollout(ctx, 12, Condition(text=["a ball"]))
    assert long.shape == (1, 12, SIZE, SIZE, 3) and long.dtype == np.uint8
    for h in (1, 3, 4, 5, 9):
        np.testing.assert_array_equal(wm.rollout(ctx, h, Condition(text=["a ball"])), long[:, :h])
    # a longer context is cut to its last Tc frames: what came before changes nothing
    longer = np.concatenate([clip(3, seed=2), ctx], axis=1)
    np.testing.assert_array_equal(wm.rollout(longer, 12, Condition(text=["a ball"])), long)
    with pytest.raises(ValueError, match=r"expected 5 \+ k \* 4 frames"):
        wm.teacher_forced(clip(7))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny continuous 4x4x4 tokenizer (a few steps) and a latent DiT trained over it, on a
    closed-form dataset at 16 px."""
    from conftest import synthetic_dataset

    from orrery.recipes.tokenizer import resolve_config, train_tokenizer
    from orrery.recipes.world import train_world

    root = tmp_path_factory.mktemp("chunks")
    data = synthetic_dataset(root / "ds", n_train=2, n_test=2, size=16, frames=20)
    tcfg = resolve_config("tiny", sets=["model.compression=4x4x4", "model.channels=8", "model.latent_channels=4",
                                        "train.steps=2", "train.batch_size=2", "train.val_every=0",
                                        "train.ckpt_every=0", "train.log_every=1"])
    train_tokenizer(data, tcfg, root / "tok", progress=False)
    res = train_world(data, root / "run", "latent", "tiny", tokenizer=root / "tok", progress=False,
                      sets=["model.d_model=16", "model.depth=1", "model.heads=2", "model.cond_dim=8",
                            "model.text_dim=8", "model.steps=1", "train.steps=2", "train.batch_size=4",
                            "train.val_every=0", "train.log_every=1", "data.horizon=8"])
    return root, data, res


def test_a_latent_model_trains_over_a_compressing_tokenizer_and_rolls_out(trained):
    root, data, res = trained
    assert res.step == 2
    wm = load_world_model(root / "run")
    assert wm.time_factor == 4 and wm.context_frames == 4 and wm.latent_context == 2
    assert wm.net.cfg.time_factor == 4 and wm.net.cfg.grid == (4, 4)
    from orrery.data.dataset import ClipStore

    frames = ClipStore(data, "test").clip(0).frames
    out = wm.rollout(frames[None, :4], 12, Condition(text=["a ball"]))
    assert out.shape == (1, 12, 16, 16, 3)


def test_a_run_whose_tokenizer_moved_names_the_missing_path(trained, tmp_path):
    root, data, _ = trained
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    moved = tmp_path / "tok-moved"
    shutil.copytree(root / "tok", moved)
    load_world_model(run)  # still loads while the tokenizer is where the run recorded it
    import yaml

    conf = yaml.safe_load((run / "config.yaml").read_text())
    where = conf["tokenizer"]
    shutil.move(where, str(tmp_path / "elsewhere"))
    try:
        with pytest.raises(FileNotFoundError) as e:
            load_world_model(run)
        msg = str(e.value)
        assert where in msg and "\n" not in msg and "missing" in msg
        from typer.testing import CliRunner

        from orrery.cli import app

        out = CliRunner().invoke(app, ["evaluate", "--model", str(run), "--data", str(data), "--out",
                                       str(tmp_path / "ev")])
        lines = [line for line in out.output.splitlines() if line.strip()]
        assert out.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error:") and where in lines[0]
    finally:
        shutil.move(str(tmp_path / "elsewhere"), where)


def test_an_evaluation_shows_the_tokenizers_own_floor(trained, tmp_path):
    """A latent model is scored beside `floor:tokenizer` (its tokenizer reconstructing the true
    frames), which is no contender for 'best', and the parser's floor last."""
    from orrery.eval.evaluate import evaluate

    root, data, _ = trained
    s = evaluate(str(root / "run"), data, "test", tmp_path / "ev", context=4, horizon=8, progress=False)
    assert s["models"][-2:] == ["floor:tokenizer", "floor"] and s["models"][0] == s["main"]
    lost = s["per_step"]["floor:tokenizer"]["objects_lost"]  # an untrained tokenizer: positions are NaN
    assert len(lost) == 8 and all(np.isfinite(lost)) and s["per_step"]["floor"]["objects_lost"] == [0.0] * 8
    assert "floor:tokenizer" in (tmp_path / "ev" / "report.html").read_text()
