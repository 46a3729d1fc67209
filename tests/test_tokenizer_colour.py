"""The object terms of the tokenizer loss (`model.colour_weight`, `model.object_weight`): zero for a
perfect reconstruction, growing with a hue shift of the objects, blind to the background, fed by
the dataset's instance masks, and able to teach a tokenizer object colours."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orrery.recipes.tokenizer import build_model, make_datasets, resolve_config
from orrery.sim.bouncing import bouncing_discs
from orrery.tokenizer.model import to_video
from orrery.tokenizer.object_loss import colour_loss, object_l1

torch.set_num_threads(1)


def discs(n: int = 2, t: int = 5, size: int = 32, seed: int = 0):
    c = bouncing_discs(n, t, size, np.random.default_rng(seed), n_objects=3)
    return to_video(c.frames), torch.from_numpy(c.masks), c


def hue_shift(video: torch.Tensor, masks: torch.Tensor, mix: float) -> torch.Tensor:
    """The objects' colours rotated towards the next channel by `mix` (0 = unchanged, 1 = RGB -> GBR);
    the background untouched."""
    rolled = video.roll(1, dims=1)
    inside = (masks > 0)[:, None].float()
    return video + inside * mix * (rolled - video)


@pytest.mark.parametrize("fn", [colour_loss, object_l1])
def test_zero_for_a_perfect_reconstruction_and_growing_with_a_hue_shift(fn):
    video, masks, _ = discs()
    assert float(fn(video, video, masks)) == 0.0
    losses = [float(fn(hue_shift(video, masks, m), video, masks)) for m in (0.25, 0.5, 1.0)]
    assert 0 < losses[0] < losses[1] < losses[2], losses
    # A change of the background alone (outside every mask) costs nothing
    background = video + 0.5 * (masks == 0)[:, None].float()
    assert float(fn(background, video, masks)) == 0.0
    # No object in view: zero, not NaN
    assert float(fn(hue_shift(video, masks, 1.0), video, torch.zeros_like(masks))) == 0.0


def test_colour_loss_weighs_a_small_object_like_a_large_one():
    """A grey disc loses its colour: the term is the same whatever the disc's area (a whole-frame
    L1 would shrink with it)."""
    size = 32
    yy, xx = np.mgrid[:size, :size]
    out = []
    for radius in (2, 8):
        mask = ((yy - 16) ** 2 + (xx - 16) ** 2 <= radius**2).astype(np.uint8)
        frame = np.zeros((size, size, 3), np.uint8)
        frame[mask > 0] = (30, 80, 255)
        grey = frame.copy()
        grey[mask > 0] = (62, 62, 62)
        v, g = to_video(frame[None, None]), to_video(grey[None, None])
        m = torch.from_numpy(mask[None, None])
        out.append((float(colour_loss(g, v, m)), float((g - v).abs().mean())))
    (c_small, l1_small), (c_large, l1_large) = out
    assert c_small == pytest.approx(c_large, rel=1e-5)
    assert l1_small < l1_large / 10


def test_the_loss_refuses_a_batch_without_masks_when_an_object_term_is_weighted():
    cfg = resolve_config("tiny", sets=["model.channels=8", "model.colour_weight=1", "model.compression=4x4x4"])
    model = build_model(cfg.model, 0)
    video, masks, clips = discs(t=5)
    with pytest.raises(ValueError, match="instance masks"):
        model.loss(torch.from_numpy(clips.frames))
    _, logs = model.loss({"frames": torch.from_numpy(clips.frames), "masks": masks})
    assert logs["colour"] > 0 and "object" not in logs


def test_training_with_the_colour_term_reduces_the_colour_error():
    """A tiny 4x temporally compressing tokenizer on a toy batch: 80 steps with the colour term
    bring the objects' colour error well below where it starts."""
    torch.manual_seed(0)
    cfg = resolve_config("tiny", sets=["model.channels=8", "model.compression=4x4x4", "model.colour_weight=1"])
    model = build_model(cfg.model, 0)
    video, masks, clips = discs(n=2, t=5)
    batch = {"frames": torch.from_numpy(clips.frames), "masks": masks}

    def error() -> float:
        with torch.no_grad():
            return float(colour_loss(model(video), video, masks))

    before = error()
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(80):
        loss, _ = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = error()
    assert after < 0.5 * before, (before, after)


def test_datasets_carry_masks_when_an_object_term_is_weighted(tmp_path):
    from orrery.eval.synthetic import scene, write_dataset

    clips = [scene(32, 9, seed=i, key=f"c{i}") for i in range(2)]
    for _, _, meta in clips:
        meta["split"] = "train"
    write_dataset(tmp_path / "ds", clips)
    plain = resolve_config("tiny", sets=["model.compression=4x4x4"])
    tr, _, _ = make_datasets(tmp_path / "ds", plain)
    assert set(tr[0]) == {"frames"}
    cfg = resolve_config("tiny", sets=["model.compression=4x4x4", "model.object_weight=1"])
    tr, _, _ = make_datasets(tmp_path / "ds", cfg)
    item = tr[0]
    assert item["masks"].shape == item["frames"].shape[:3] and int(item["masks"].max()) >= 1
    np.testing.assert_array_equal(item["masks"].numpy(), clips[0][1][:9])
    syn, val, _ = make_datasets("synthetic", resolve_config("tiny", sets=[
        "model.colour_weight=1", "data.synthetic_clips=2", "data.size=32"]))
    assert syn[0]["masks"].shape == syn[0]["frames"].shape[:3] and val[0]["masks"].shape[0] == 3

    # a dataset stored without masks (curated video) is refused by name, not trained on zeros
    frames, _, meta = clips[0]
    write_dataset(tmp_path / "nomask", [(frames, None, meta)])
    with pytest.raises(ValueError, match=f"clip {meta['key']}: stored without instance masks"):
        make_datasets(tmp_path / "nomask", cfg)
    assert len(make_datasets(tmp_path / "nomask", plain)[0]) == 1
