"""The causal video tokenizer: an encoder to a latent grid, a quantiser (none for continuous
latents, FSQ for discrete tokens) and a decoder back to pixels.

Frames T = 1 + k * s_t become latent frames 1 + k: latent 0 encodes frame 0 alone (so images are
clips of one frame) and latent j sees only frames <= j * s_t, so the tokenizer can stream."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import TokenizerConfig
from .fsq import FSQ
from .layers import Down, FrameAttention, FrameNorm, ResBlock, Stem, Up, spatial_conv
from .losses import reconstruction_loss
from .object_loss import colour_loss, object_l1


def to_video(frames: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 frames [B, T, H, W, 3] -> float32 video [B, 3, T, H, W] in [-1, 1]."""
    x = torch.as_tensor(frames)
    if x.dtype != torch.uint8 or x.ndim != 5 or x.shape[-1] != 3:
        raise ValueError(f"frames: expected uint8 [B, T, H, W, 3], got {x.dtype} {list(x.shape)}")
    return x.permute(0, 4, 1, 2, 3).float().div(127.5).sub(1.0)


def to_frames(video: torch.Tensor) -> np.ndarray:
    """float video [B, 3, T, H, W] in [-1, 1] -> uint8 frames [B, T, H, W, 3] (rounded, clipped)."""
    x = video.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 4, 1).cpu().numpy()


class Encoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        w, g, k = cfg.widths, cfg.groups, cfg.temporal_kernel
        self.stem = Stem(cfg.stem, cfg.stem_factor)
        self.conv_in = spatial_conv(self.stem.out_channels, w[0])
        layers: list[nn.Module] = []
        for i in range(cfg.stages):
            layers += [ResBlock(w[i], w[i], g, k) for _ in range(cfg.blocks)]
            layers.append(Down(w[i], w[i + 1], space=i < cfg.space_stages, time=i < cfg.time_stages))
        layers += [ResBlock(w[-1], w[-1], g, k) for _ in range(cfg.mid_blocks)]
        if cfg.attention:
            layers.append(FrameAttention(w[-1], g))
            layers += [ResBlock(w[-1], w[-1], g, k) for _ in range(cfg.mid_blocks)]
        self.body = nn.Sequential(*layers)
        self.norm_out = FrameNorm(g, w[-1])
        self.conv_out = nn.Conv3d(w[-1], cfg.code_dim, 1)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        h = self.body(self.conv_in(self.stem(video)))
        return self.conv_out(torch.nn.functional.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig, stem: Stem):
        super().__init__()
        w, g, k = cfg.widths, cfg.groups, cfg.temporal_kernel
        self.stem = stem  # shared, parameter-free: decoding ends with the stem's exact inverse
        self.conv_in = spatial_conv(cfg.code_dim, w[-1])
        layers: list[nn.Module] = [ResBlock(w[-1], w[-1], g, k) for _ in range(cfg.mid_blocks)]
        if cfg.attention:
            layers.append(FrameAttention(w[-1], g))
            layers += [ResBlock(w[-1], w[-1], g, k) for _ in range(cfg.mid_blocks)]
        for i in reversed(range(cfg.stages)):
            layers.append(Up(w[i + 1], w[i], space=i < cfg.space_stages, time=i < cfg.time_stages))
            layers += [ResBlock(w[i], w[i], g, k) for _ in range(cfg.blocks)]
        self.body = nn.Sequential(*layers)
        self.norm_out = FrameNorm(g, w[0])
        self.conv_out = spatial_conv(w[0], stem.out_channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.body(self.conv_in(z))
        return self.stem.inverse(self.conv_out(torch.nn.functional.silu(self.norm_out(h))))


class VideoTokenizer(nn.Module):
    """Causal video autoencoder, continuous or FSQ-discrete (see `TokenizerConfig`)."""

    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg, self.encoder.stem)
        self.fsq = FSQ(cfg.fsq_levels) if cfg.kind == "fsq" else None
        # Per-channel statistics of continuous latents over training data, so that a diffusion
        # model sees unit-variance latents; filled by `stats.fit_latent_stats`, saved in the sidecar.
        self.register_buffer("latent_mean", torch.zeros(cfg.code_dim))
        self.register_buffer("latent_std", torch.ones(cfg.code_dim))
        # Hook for an adversarial term: a module with `generator_loss(recon, target) -> scalar`.
        self.adversary: nn.Module | None = None

    # Geometry ---------------------------------------------------------------------------------
    def check_input(self, video: torch.Tensor) -> None:
        s_t, s = self.cfg.time_factor, self.cfg.space_factor
        if video.ndim != 5 or video.shape[1] != 3:
            raise ValueError(f"video: expected [B, 3, T, H, W], got {list(video.shape)}")
        t, h, w = video.shape[2:]
        if (t - 1) % s_t:
            raise ValueError(f"video: T must be 1 + k * {s_t} for compression {self.cfg.compression}, got T={t}")
        if h % s or w % s:
            raise ValueError(f"video: H and W must be multiples of {s} for compression "
                             f"{self.cfg.compression}, got {h}x{w}")

    def latent_shape(self, t: int, h: int, w: int) -> tuple[int, int, int, int]:
        """(channels, latent frames, height, width) for a clip of T x H x W."""
        s_t, s = self.cfg.time_factor, self.cfg.space_factor
        return self.cfg.code_dim, 1 + (t - 1) // s_t, h // s, w // s

    def bits_per_pixel(self, t: int, h: int, w: int) -> float:
        """Bits per pixel (per frame pixel, all three colours) of the raw token indices (FSQ only).
        A clip whose T is not 1 + k s_t is padded by the codec, and pays for the padding here."""
        if self.fsq is None:
            raise ValueError("bits_per_pixel: only defined for the discrete (fsq) tokenizer")
        s_t = self.cfg.time_factor
        _, _, lh, lw = self.latent_shape(t, h, w)
        lt = 1 + -(-(t - 1) // s_t)
        return lt * lh * lw * math.log2(self.fsq.codebook_size) / (t * h * w)

    # Encode / decode --------------------------------------------------------------------------
    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """video [B, 3, T, H, W] in [-1, 1] -> latent [B, C, t, h, w] (FSQ: codes in [-1, 1])."""
        self.check_input(video)
        z = self.encoder(video)
        if self.fsq is not None:
            z = self.fsq.quantize(z.movedim(1, -1)).movedim(-1, 1)
        return z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """latent [B, C, t, h, w] -> video [B, 3, 1 + (t - 1) s_t, H, W] (not clipped)."""
        if z.ndim != 5 or z.shape[1] != self.cfg.code_dim:
            raise ValueError(f"latent: expected [B, {self.cfg.code_dim}, t, h, w], got {list(z.shape)}")
        return self.decoder(z)

    def encode_indices(self, video: torch.Tensor) -> torch.Tensor:
        """video -> token indices int64 [B, t, h, w] (FSQ only)."""
        if self.fsq is None:
            raise ValueError("encode_indices: the continuous tokenizer has no tokens; use encode()")
        return self.fsq.codes_to_indices(self.encode(video).movedim(1, -1))

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """token indices int [B, t, h, w] -> video [B, 3, T, H, W]."""
        if self.fsq is None:
            raise ValueError("decode_indices: the continuous tokenizer has no tokens; use decode()")
        return self.decode(self.fsq.indices_to_codes(indices).movedim(-1, 1))

    def normalize(self, z: torch.Tensor) -> torch.Tensor:
        """Latent -> unit-variance latent (for diffusion) with the stored per-channel statistics."""
        return (z - self.latent_mean.view(1, -1, 1, 1, 1)) / self.latent_std.view(1, -1, 1, 1, 1)

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std.view(1, -1, 1, 1, 1) + self.latent_mean.view(1, -1, 1, 1, 1)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(video))

    # Training ---------------------------------------------------------------------------------
    def loss(self, batch: Any, generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """batch: uint8 frames [B, T, H, W, 3], or a mapping with 'frames' (and 'masks' uint8
        [B, T, H, W], which the object terms need) -> (loss, logged values).
        The loss draws no randomness (`generator` is accepted for the training protocol)."""
        frames = batch["frames"] if isinstance(batch, dict) else batch
        target = to_video(frames).to(next(self.parameters()).device)
        recon = self(target).float()  # losses in float32 also under bf16 autocast
        c = self.cfg
        total, terms = reconstruction_loss(recon, target, l1=c.l1_weight, l2=c.l2_weight,
                                           ssim_w=c.ssim_weight, gradient=c.gradient_weight)
        if c.needs_masks:
            masks = batch.get("masks") if isinstance(batch, dict) else None
            if masks is None:
                raise ValueError("model.colour_weight/object_weight > 0 need instance masks in the batch "
                                 "('masks'); train on a simulated dataset, or set both weights to 0")
            for name, weight, fn in (("colour", c.colour_weight, colour_loss), ("object", c.object_weight, object_l1)):
                if weight:
                    term = fn(recon, target, masks)
                    terms[name] = term.detach()
                    total = total + weight * term
        if c.adversarial_weight:
            if self.adversary is None:
                raise ValueError("adversarial_weight > 0 but no discriminator is attached "
                                 "(VideoTokenizer.adversary); orrery ships none yet")
            adv = self.adversary.generator_loss(recon, target)
            terms["adversarial"] = adv.detach()
            total = total + c.adversarial_weight * adv
        with torch.no_grad():
            mse = torch.mean((recon.clamp(-1, 1) - target) ** 2)
            terms["psnr"] = 10 * torch.log10(4.0 / mse.clamp_min(1e-10))
        return total, {k: float(v) for k, v in terms.items()}
