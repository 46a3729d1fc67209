"""The autoregressive world model end to end on a (random, untrained) FSQ tokenizer: tokenized
windows, training through the shared loop, reload, and a seeded rollout of the right shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orrery.models.autoregressive.adapter import ARRollout
from orrery.models.autoregressive.config import ARModelConfig
from orrery.models.autoregressive.net import ARWorldNet
from orrery.models.base import Condition
from orrery.models.nets.gpt import GPTConfig
from orrery.models.registry import check_tokenizer, get_family, load_world_model
from orrery.recipes.windows import Windows, collate
from orrery.recipes.world import run_config_class
from orrery.tokenizer.checkpoint import save_tokenizer
from orrery.tokenizer.config import TokenizerConfig
from orrery.tokenizer.model import VideoTokenizer, to_video
from orrery.train import TrainConfig, train

torch.set_num_threads(1)


def tokenizer(**kw) -> VideoTokenizer:
    torch.manual_seed(0)
    cfg = TokenizerConfig(kind="fsq", compression="1x4x4", channels=8, fsq_levels=(4, 4), **kw)
    return VideoTokenizer(cfg).eval()


def token_windows(clips, tok, context: int) -> Windows:
    return Windows(clips, context, field="tokens",
                   encode=lambda f: tok.encode_indices(to_video(f[None]))[0].to(torch.int32))


def clips(n: int = 3, t: int = 6, a: int = 2):
    rng = np.random.default_rng(0)
    return [(rng.integers(0, 255, (t, 16, 16, 3), dtype=np.uint8), rng.normal(size=(t, a)).astype(np.float32),
             ["a ball", "one ball"]) for _ in range(n)]


def test_ar_world_model_trains_reloads_and_rolls_out(tmp_path):
    tok = tokenizer()
    export = save_tokenizer(tmp_path / "tok.safetensors", tok)
    windows = token_windows(clips(), tok, context=2)
    assert windows.item_shape == (4, 4) and len(windows) == 3 * 4 and windows.action_dim == 2
    gpt = GPTConfig(vocab=16, tokens_per_frame=16, max_frames=3, d_model=32, n_layer=2, n_head=2, action_dim=2,
                    text_dim=16)
    model_cfg = ARModelConfig(context=2, gpt=gpt)
    tcfg = TrainConfig(steps=3, batch_size=4, val_every=0, ckpt_every=0, log_every=1, device="cpu", ema_decay=0)
    conf = run_config_class("autoregressive")(tokenizer=str(export), model=model_cfg, train=tcfg)
    net = ARWorldNet(model_cfg)
    train(net, windows, None, tcfg, tmp_path / "run", config=conf, data_fingerprint="x",
          collate_fn=collate, progress=False)

    wm = load_world_model(tmp_path / "run", seed=3)
    assert isinstance(wm, ARRollout)
    trained = net.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in wm.net.state_dict().items())  # the trained weights
    ctx = clips(1)[0][0][None, :2]
    acts = np.zeros((1, 5, 2), np.float32)
    out = wm.rollout(ctx, 3, Condition(text=["a ball"], actions=acts))
    assert out.shape == (1, 3, 16, 16, 3) and out.dtype == np.uint8
    again = load_world_model(tmp_path / "run", seed=3).rollout(ctx, 3, Condition(text=["a ball"], actions=acts))
    assert np.array_equal(out, again)
    with pytest.raises(ValueError, match="action"):
        wm.rollout(ctx, 1)


def test_rejects_tokenizers_it_cannot_roll_out_with():
    fam = get_family("autoregressive")
    chunked = VideoTokenizer(TokenizerConfig(kind="fsq", compression="4x4x4", channels=8))
    check_tokenizer(fam, chunked, "t")  # a tokenizer that compresses time is rolled out in chunks
    with pytest.raises(ValueError, match="discrete"):
        check_tokenizer(fam, VideoTokenizer(TokenizerConfig(kind="continuous", channels=8)), "t")
    # ... but only by a model trained over the same number of frames per token frame
    gpt = GPTConfig(vocab=1000, tokens_per_frame=16, max_frames=3, d_model=16, n_layer=1, n_head=2, text_dim=0)
    with pytest.raises(ValueError, match="4 frame\\(s\\) per latent frame, but the model was trained over 1"):
        ARRollout(ARWorldNet(ARModelConfig(context=2, gpt=gpt)), chunked)


def test_a_batch_item_is_one_window_of_token_frames():
    tok = tokenizer()
    w = token_windows(clips(1, t=5, a=0), tok, context=3)
    batch = collate([w[0], w[1]])
    assert batch["tokens"].shape == (2, 4, 4, 4) and not batch["tokens"].is_floating_point()
    assert int(batch["tokens"].max()) < 16
