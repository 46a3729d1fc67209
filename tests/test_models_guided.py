"""Physics-guided sampling through the shared rollout: N = 1 is the plain rollout draw for draw;
N > 1 returns, chunk by chunk, the candidate the verifier scored lowest, for every family."""

from __future__ import annotations

import numpy as np
import pytest
from test_models_families import SIZE, TC, tiny

from orrery.config import ConfigError
from orrery.models.base import Condition
from orrery.models.registry import get_family

H = 4


def model(family: str, head: str | None = None, **guide):
    net, tok, _, _ = tiny(family)
    if head:
        net = get_family(family).net(net.cfg.model_copy(update={"head": head}))
    for k, v in guide.items():
        setattr(net.cfg, k, v)
    return get_family(family).adapter(net, tok, 3, "cpu")


def inputs(b: int = 2):
    rng = np.random.default_rng(0)
    ctx = rng.integers(0, 255, (b, TC, SIZE, SIZE, 3), dtype=np.uint8)
    return ctx, Condition(actions=np.zeros((b, TC + H, 1), np.float32))


CASES = [("pixel", "hybrid"), ("pixel", "diffusion"), ("latent", None), ("autoregressive", None)]


@pytest.mark.parametrize("family,head", CASES)
def test_one_candidate_is_the_plain_rollout(family, head):
    ctx, cond = inputs()
    plain = model(family, head).rollout(ctx, H, cond)
    one = model(family, head, guide_candidates=1, guide_chunk=3).rollout(ctx, H, cond)
    np.testing.assert_array_equal(plain, one)


@pytest.mark.parametrize("family,head", CASES)
def test_several_candidates_return_the_chosen_ones(family, head):
    ctx, cond = inputs()
    wm = model(family, head, guide_candidates=3, guide_chunk=2)
    out = wm.rollout(ctx, H, cond)
    assert [len(c["chosen"]) for c in wm.guide_log] == [2, 2]  # two chunks of two frames, two items
    for i, chunk in enumerate(wm.guide_log):
        assert chunk["frames"].shape == (3, 2, 2, SIZE, SIZE, 3) and chunk["scores"].shape == (3, 2)
        for b, c in enumerate(chunk["chosen"]):
            np.testing.assert_array_equal(out[b, 2 * i:2 * i + 2], chunk["frames"][c, b])
            assert chunk["scores"][c, b] == chunk["scores"][:, b].min()
    first = wm.guide_log[0]["frames"]  # every case here samples: its candidates differ
    assert not all(np.array_equal(first[0], first[j]) for j in (1, 2))


def test_guide_settings_are_validated_and_loaded_as_inference_settings():
    cfg = get_family("pixel").config
    with pytest.raises(Exception, match="guide_candidates"):
        cfg(guide_candidates=0)
    assert cfg(guide_candidates=8, guide_chunk=4).guide_chunk == 4
    with pytest.raises((ConfigError, ValueError)):
        get_family("latent").config(guide_chunk=0)
