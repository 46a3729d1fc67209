"""What every world-model family shares: one action-window convention in training and in
rollout, and no way to reach the simulator's states through a rollout's condition."""

from __future__ import annotations

import gc
import types

import numpy as np
import pytest
import torch

from orrery.models.base import Condition, Layout, WorldModel
from orrery.models.conditioning import action_rows
from orrery.models.nets.conditioner import Conditioner
from orrery.models.nets.gpt import TokenGPT
from orrery.models.registry import FAMILIES, get_family
from orrery.recipes.windows import Windows, collate
from orrery.tokenizer.config import TokenizerConfig
from orrery.tokenizer.model import VideoTokenizer, to_video

torch.set_num_threads(1)
TC, A, T, SIZE = 2, 1, 8, 16


def tiny(family: str):
    """(net, tokenizer or None, encode frames -> sequence or None, field) of a small `family` model
    trained with one action value per step."""
    fam = get_family(family)
    torch.manual_seed(0)
    tok, encode, field = None, None, "frames"
    if family in ("pixel", "deterministic"):
        extra = {"residual_channels": (8, 8)} if family == "pixel" else {}
        cfg = fam.config(context=TC, channels=(8, 8), cond_dim=8, text_dim=8, action_dim=A, unroll=1, **extra)
    elif family == "latent":
        tok = VideoTokenizer(TokenizerConfig(compression="1x4x4", channels=8, latent_channels=4)).eval()
        cfg = fam.config(context=TC, latent_channels=4, grid=(4, 4), d_model=16, depth=1, heads=2, cond_dim=8,
                         text_dim=8, action_dim=A, steps=1)
        field = "latents"

        def encode(f):
            return tok.normalize(tok.encode(to_video(f[None])))[0].permute(1, 0, 2, 3)
    else:
        tok = VideoTokenizer(TokenizerConfig(kind="fsq", compression="1x4x4", channels=8, fsq_levels=(4, 4))).eval()
        cfg = fam.config(context=TC, gpt={"vocab": 16, "tokens_per_frame": 16, "max_frames": TC + 1, "d_model": 16,
                                          "n_layer": 1, "n_head": 2, "action_dim": A, "text_dim": 8})
        field = "tokens"

        def encode(f):
            return tok.encode_indices(to_video(f[None]))[0].to(torch.int32)
    return fam.net(cfg), tok, encode, field


def spy_rows(monkeypatch) -> list[np.ndarray]:
    """Record the action rows a network is conditioned on, per predicted frame: the Tc rows a
    diffusion or mean network's conditioner receives, or the rows the GPT adds to frames 1..Tc."""
    seen: list[np.ndarray] = []
    cond_forward, embed = Conditioner.forward, TokenGPT.embed

    def on_cond(self, noise, ctx_sigma, actions, text):
        seen.append(actions.detach().numpy().copy())
        return cond_forward(self, noise, ctx_sigma, actions, text)

    def on_embed(self, tokens, start, text, actions):
        if start == 0 and actions is not None:  # frame f gets row f - 1: frames 1..Tc use rows 0..Tc-1
            seen.append(actions[:, :TC].detach().numpy().copy())
        return embed(self, tokens, start, text, actions)

    monkeypatch.setattr(Conditioner, "forward", on_cond)
    monkeypatch.setattr(TokenGPT, "embed", on_embed)
    return seen


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_uses_the_same_action_rows_in_training_and_rollout(family, monkeypatch):
    """Clip actions coded by their row number: predicting clip frame 3 from frames 1 and 2 must
    see rows 1 and 2 (the commands from frame 1 to 2 and from 2 to 3) — in a training window and
    in a rollout, for every family."""
    net, tok, encode, field = tiny(family)
    frames = np.random.default_rng(0).integers(0, 255, (T, SIZE, SIZE, 3), dtype=np.uint8)
    actions = np.arange(T, dtype=np.float32)[:, None]  # row j holds j
    expected = action_rows(torch.from_numpy(actions)[None], 3, TC).numpy()  # rows 1, 2
    assert expected[0, :, 0].tolist() == [1.0, 2.0]

    seen = spy_rows(monkeypatch)
    windows = Windows([(frames, actions, ["a ball"])], TC, field=field, encode=encode)
    item = windows[1]  # the window of clip frames 1, 2 -> 3
    net.loss(collate([item]), torch.Generator().manual_seed(0))
    assert seen, "the network never received actions"
    for rows in seen:
        np.testing.assert_array_equal(rows, expected)

    seen.clear()
    model = get_family(family).adapter(net, tok, 0, "cpu")
    # the rollout's own numbering: its frame 0 is clip frame 1, so its action row j is clip row 1 + j
    model.rollout(frames[None, 1:3], 1, Condition(actions=actions[None, 1:4]))
    assert seen
    for rows in seen:
        np.testing.assert_array_equal(rows, expected)


def tiny_chunked(family: str, s_t: int = 2):
    """(net, tokenizer, batch encode) of a small latent or autoregressive model over a tokenizer that
    compresses time by s_t, trained with one action value per step (A s_t per latent step)."""
    from orrery.models.chunks import latent_context

    fam = get_family(family)
    torch.manual_seed(0)
    lc = latent_context(TC, s_t)
    if family == "latent":
        tok = VideoTokenizer(TokenizerConfig(compression=f"{s_t}x4x4", channels=8, latent_channels=4)).eval()
        cfg = fam.config(context=TC, time_factor=s_t, latent_channels=4, grid=(4, 4), d_model=16, depth=1, heads=2,
                         cond_dim=8, text_dim=8, action_dim=A * s_t, steps=1)

        def encode(f):
            return tok.normalize(tok.encode(to_video(f))).permute(0, 2, 1, 3, 4)
    else:
        tok = VideoTokenizer(TokenizerConfig(kind="fsq", compression=f"{s_t}x4x4", channels=8,
                                             fsq_levels=(4, 4))).eval()
        cfg = fam.config(context=TC, time_factor=s_t, gpt={"vocab": 16, "tokens_per_frame": 16, "max_frames": lc + 1,
                                                           "d_model": 16, "n_layer": 1, "n_head": 2,
                                                           "action_dim": A * s_t, "text_dim": 8})

        def encode(f):
            return tok.encode_indices(to_video(f)).to(torch.int32)
    return fam.net(cfg), tok, encode


@pytest.mark.parametrize("family", ["latent", "autoregressive"])
def test_chunked_models_use_the_same_latent_action_rows_in_training_and_rollout(family, monkeypatch):
    """Over a tokenizer with 2 frames per latent frame, Tc = 2 context frames are padded at the
    front to 3 (latent 0 = a copy of the first frame, latent 1 = the two context frames). The first
    chunk is then predicted from latent action rows [copy -> first frame, first -> second] and
    [second -> third, third -> fourth], i.e. clip rows (pad, 1) and (2, 3) for a context starting at
    clip frame 1 -- in a training window and in a rollout."""
    from orrery.recipes.chunks import chunk_sequences

    net, tok, encode = tiny_chunked(family)
    encode = torch.no_grad()(encode)
    frames = np.random.default_rng(0).integers(0, 255, (12, SIZE, SIZE, 3), dtype=np.uint8)
    actions = np.arange(1, 13, dtype=np.float32)[:, None]  # row j holds j + 1; 0 = a padded copy's command
    expected = np.array([[[0.0, 2.0], [3.0, 4.0]]], np.float32)

    seen = spy_rows(monkeypatch)
    seqs = chunk_sequences([(frames, actions, ["a ball"])], encode, 2, TC, horizon=4)
    assert len(seqs) == 12 - (TC + 4) + 1 and seqs[0][0].shape[0] == 2 + 2  # Lc = 2 latents + 2 chunks
    field = "latents" if family == "latent" else "tokens"
    windows = Windows(seqs, 2, field=field, encode=torch.as_tensor)
    assert len(windows) == 2 * len(seqs)  # two chunks to predict per window
    net.loss(collate([windows[2]]), torch.Generator().manual_seed(0))  # window start 1, first chunk
    assert seen, "the network never received actions"
    for rows in seen:
        np.testing.assert_array_equal(rows, expected)

    seen.clear()
    model = get_family(family).adapter(net, tok, 0, "cpu")
    assert model.time_factor == 2 and model.action_dim == A and model.latent_context == 2
    out = model.rollout(frames[None, 1:3], 2, Condition(actions=actions[None, 1:5]))
    assert out.shape == (1, 2, SIZE, SIZE, 3) and seen
    for rows in seen:
        np.testing.assert_array_equal(rows, expected)


def reachable(root, limit: int = 200_000) -> dict[int, object]:
    """Every object reachable from `root` through references (not through modules, classes or
    functions, which would lead into the whole program), by id."""
    seen: dict[int, object] = {}
    stack = [root]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType, types.MethodType)):
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
    assert len(seen) < limit
    return seen


def holds_positions(cond: Condition, clips) -> bool:
    """Whether any list or array reachable from the condition equals some frame's true positions
    (by value: a copy counts too)."""
    arrays = []
    for o in reachable(cond).values():
        if isinstance(o, (list, tuple, np.ndarray)):
            try:
                arrays.append(np.asarray(o, dtype=np.float64))
            except (TypeError, ValueError):
                continue
    for clip in clips:
        for frame in np.asarray(clip.meta["states"]["position"], dtype=np.float64):  # [N, 2] per frame
            if any(a.shape == frame.shape and np.allclose(a, frame) for a in arrays):
                return True
    return False


def test_a_rollout_cannot_reach_the_simulated_states(tmp_path):
    """evaluate() hands a learned model's rollout a condition from which none of the clip's
    states (positions, velocities, angles) can be reached; only the oracle, built with them, has them."""
    from orrery.data.dataset import ClipStore
    from orrery.eval.evaluate import evaluate
    from orrery.eval.synthetic import scene, write_dataset

    write_dataset(tmp_path / "ds", [scene(32, 20, seed=i, key=f"c{i}") for i in range(2)])
    conditions: list[Condition] = []

    class Spy(WorldModel):
        name = "spy"

        def rollout(self, context, horizon, condition=None):
            conditions.append(condition)
            return np.repeat(context[:, -1:], horizon, axis=1)

    evaluate(Spy(), tmp_path / "ds", "test", tmp_path / "ev", baselines=("simulator",), progress=False,
             report=False)
    assert conditions and all(c.layouts for c in conditions)
    clips = list(ClipStore(tmp_path / "ds", "test"))
    assert not any(holds_positions(cond, clips) for cond in conditions)
    # the check is not blind: a condition that carried a clip's record would be caught
    assert holds_positions(Condition(text=[clips[0].meta]), clips)
    for cond in conditions:
        for lay in cond.layouts:
            assert set(vars(lay)) == {"key", "camera", "fps", "statics", "objects", "start"}
            assert isinstance(lay, Layout)
