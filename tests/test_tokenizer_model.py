"""The causal video autoencoder: causality, shapes, exact stems, save -> load, config validation."""

import math

import numpy as np
import pytest
import torch

from orrery.tokenizer.checkpoint import load_tokenizer, save_tokenizer
from orrery.tokenizer.codec import decode_clips, encode_clips, padded_length
from orrery.tokenizer.config import COMPRESSIONS, ConfigError, make_config
from orrery.tokenizer.layers import Stem
from orrery.tokenizer.model import VideoTokenizer

torch.set_num_threads(1)


def _randomised(cfg, seed=0):
    """A model whose every parameter is random: the zero-initialised residual outputs would
    otherwise make the temporal layers vanish and causality hold trivially."""
    gen = torch.Generator().manual_seed(seed)
    model = VideoTokenizer(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
    return model


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("kind", ["continuous", "fsq"])
def test_changing_frame_t_never_changes_earlier_latents(compression, kind):
    cfg = make_config("tiny", {"compression": compression, "kind": kind, "attention": True})
    model = _randomised(cfg)
    s_t = cfg.time_factor
    t_len = 1 + 3 * s_t
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, t_len, 16, 16, generator=gen) * 2 - 1
    with torch.no_grad():
        z0 = model.encoder(x)  # pre-quantisation, so a change cannot hide under rounding
        for t in range(t_len):
            x2 = x.clone()
            x2[:, :, t] = -x2[:, :, t]
            z1 = model.encoder(x2)
            first = math.ceil(t / s_t)  # the first latent frame whose window contains frame t
            assert torch.equal(z0[:, :, :first], z1[:, :, :first]), f"frame {t} leaked into latents < {first}"
            assert not torch.allclose(z0[:, :, first], z1[:, :, first]), f"frame {t} not seen by latent {first}"


@pytest.mark.parametrize("compression", ["4x4x4", "4x8x8"])
def test_an_image_is_the_first_frame_of_a_clip(compression):
    # Latent 0 of a clip is the image's latent, and a prefix of 1 + k s_t frames gives the prefix
    # of the latents: the tokenizer streams.
    cfg = make_config("tiny", {"compression": compression, "kind": "fsq"})
    model = _randomised(cfg, seed=8)
    x = torch.rand(2, 3, 9, 16, 16, generator=torch.Generator().manual_seed(9)) * 2 - 1
    with torch.no_grad():
        full = model.encode_indices(x)
        assert torch.equal(model.encode_indices(x[:, :, :1]), full[:, :1])
        assert torch.equal(model.encode_indices(x[:, :, :5]), full[:, :2])


def test_decoder_is_causal_too():
    cfg = make_config("tiny", {"compression": "4x4x4"})
    model = _randomised(cfg)
    z = torch.randn(1, cfg.code_dim, 4, 4, 4, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y0 = model.decode(z)
        z2 = z.clone()
        z2[:, :, 2] += 1.0
        y1 = model.decode(z2)
    # Latent 2 decodes frames 5..8; frames 0..4 must not move.
    assert torch.equal(y0[:, :, :5], y1[:, :, :5])
    assert not torch.allclose(y0[:, :, 5:9], y1[:, :, 5:9])


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("stem", ["haar", "patchify"])
def test_shapes_for_one_frame_and_one_plus_k_strides(compression, stem):
    cfg = make_config("tiny", {"compression": compression, "stem": stem})
    model = VideoTokenizer(cfg).eval()
    s_t, s = cfg.time_factor, cfg.space_factor
    for t_len in (1, 1 + s_t, 1 + 2 * s_t):
        x = torch.zeros(2, 3, t_len, 32, 16)
        with torch.no_grad():
            z = model.encode(x)
            y = model.decode(z)
        assert tuple(z.shape) == (2, cfg.code_dim, 1 + (t_len - 1) // s_t, 32 // s, 16 // s)
        assert y.shape == x.shape
    if s_t > 1:
        with pytest.raises(ValueError, match=f"1 \\+ k \\* {s_t}"):
            model.encode(torch.zeros(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match=f"multiples of {s}"):
        model.encode(torch.zeros(1, 3, 1, 36 if s == 8 else 30, 32))


@pytest.mark.parametrize("kind,factor", [("haar", 2), ("haar", 4), ("patchify", 4)])
def test_stem_is_exactly_invertible(kind, factor):
    stem = Stem(kind, factor)
    x = torch.randn(2, 3, 3, 16, 16, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    y = stem.double()(x)
    assert y.shape == (2, 3 * factor**2, 3, 16 // factor, 16 // factor)
    assert torch.allclose(stem.inverse(y), x, atol=1e-12)
    if kind == "haar":  # orthonormal: energy preserved, and the first channel is the low-pass image
        assert torch.allclose((y**2).sum(), (x**2).sum())
        assert torch.allclose(y[:, 0] / factor, x[:, 0].reshape(2, 3, 16 // factor, factor, 16 // factor, factor)
                              .mean(dim=(3, 5)))


def test_save_load_gives_identical_outputs(tmp_path):
    cfg = make_config("tiny", {"kind": "fsq", "compression": "4x8x8", "fsq_levels": [7, 5, 5]})
    model = _randomised(cfg, seed=4)
    model.latent_mean.fill_(0.25)
    frames = np.random.default_rng(5).integers(0, 256, size=(2, 5, 16, 16, 3), dtype=np.uint8)
    idx = encode_clips(model, frames)
    rec = decode_clips(model, idx, 5)
    save_tokenizer(tmp_path / "tokenizer.safetensors", model, {"step": 7})
    loaded, meta = load_tokenizer(tmp_path)
    assert meta["step"] == 7 and loaded.cfg == cfg
    assert torch.equal(loaded.latent_mean, model.latent_mean)
    assert np.array_equal(encode_clips(loaded, frames), idx)
    assert np.array_equal(decode_clips(loaded, idx, 5), rec)
    assert idx.dtype == np.int32 and idx.shape == (2, 2, 2, 2) and idx.max() < 175


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_tokenizer(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no tokenizer.safetensors and no complete training checkpoint"):
        load_tokenizer(tmp_path)
    model = VideoTokenizer(make_config("tiny"))
    path = save_tokenizer(tmp_path / "t.safetensors", model)
    path.with_suffix(".json").write_text('{"config": {"channels": 16, "colour": 1}}')
    with pytest.raises(ValueError, match="config.colour: unknown key"):
        load_tokenizer(path)


def test_codec_pads_time_causally():
    cfg = make_config("tiny", {"compression": "4x4x4"})
    model = _randomised(cfg, seed=6)
    frames = np.random.default_rng(7).integers(0, 256, size=(1, 7, 16, 16, 3), dtype=np.uint8)
    assert padded_length(7, 4) == 9 and padded_length(9, 4) == 9 and padded_length(1, 4) == 1
    z = encode_clips(model, frames)
    assert z.shape[2] == 3
    # The first 5 frames (latents 0 and 1) do not depend on the padding.
    z5 = encode_clips(model, frames[:, :5])
    assert np.array_equal(z[:, :, :2], z5)


def test_config_validation_names_fields():
    with pytest.raises(ConfigError, match="model.compression: .*power of two"):
        make_config("tiny", {"compression": "3x4x4"})
    with pytest.raises(ConfigError, match="model.chanels: unknown key"):
        make_config("tiny", {"chanels": 8})
    with pytest.raises(ConfigError, match="model.fsq_levels"):
        make_config("tiny", {"fsq_levels": [8, 1]})
    with pytest.raises(ConfigError, match="model.channels: expected an integer"):
        make_config("tiny", {"channels": "wide"})
    with pytest.raises(ConfigError, match="model.groups: 5 does not divide"):
        make_config("tiny", {"groups": 5})
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        make_config("huge")
    cfg = make_config("tiny", {"kind": "fsq", "fsq_levels": [8, 5, 5, 5]})
    assert cfg.codebook_size == 1000
    model = VideoTokenizer(make_config("tiny", {"kind": "fsq", "compression": "4x8x8"}))
    # 1 + 8/4 latent frames of 8x8 tokens of log2(1000) bits over 9 frames of 64x64 pixels.
    assert model.bits_per_pixel(9, 64, 64) == pytest.approx(3 * 64 * math.log2(1000) / (9 * 64 * 64))
    # 8 frames are padded to 9 by the codec and pay for the same 3 latent frames.
    assert model.bits_per_pixel(8, 64, 64) == pytest.approx(3 * 64 * math.log2(1000) / (8 * 64 * 64))
