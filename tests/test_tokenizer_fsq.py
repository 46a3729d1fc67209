"""FSQ: the codebook is the exact product grid, indices <-> codes round-trip, gradients pass."""

import math

import pytest
import torch

from orrery.tokenizer.fsq import FSQ


@pytest.mark.parametrize("levels", [[8, 5, 5, 5], [7, 5, 5, 5, 5], [2, 3], [4, 4, 4]])
def test_every_index_round_trips(levels):
    fsq = FSQ(levels)
    assert fsq.codebook_size == math.prod(levels)
    idx = torch.arange(fsq.codebook_size)
    codes = fsq.indices_to_codes(idx)
    assert codes.shape == (fsq.codebook_size, len(levels))
    assert codes.min() >= -1 and codes.max() <= 1
    assert torch.equal(fsq.codes_to_indices(codes), idx)
    # All codes distinct: the grid really has prod(levels) points.
    assert torch.unique(codes, dim=0).shape[0] == fsq.codebook_size


def test_quantize_lands_on_grid_and_round_trips():
    gen = torch.Generator().manual_seed(0)
    fsq = FSQ([8, 5, 5, 5])
    z = torch.randn(4, 6, 4, generator=gen) * 3
    codes, idx = fsq(z)
    assert idx.dtype == torch.int64 and idx.shape == (4, 6)
    assert torch.equal(fsq.indices_to_codes(idx), codes)
    # Per dimension, the quantiser uses exactly L values (large |z| saturates to the ends).
    big = torch.linspace(-20, 20, 2001).unsqueeze(-1).repeat(1, 4)
    q = fsq.quantize(big)
    assert [len(torch.unique(q[:, d])) for d in range(4)] == [8, 5, 5, 5]


def test_quantize_is_nearest_level_of_bounded_value():
    fsq = FSQ([5])
    z = torch.tensor([[0.0], [0.3], [-0.3], [5.0]])
    # Odd L=5: bounded values in (-2, 2), rounded, scaled by 1/2.
    expected = torch.round(torch.tanh(z) * 2 * (1 + 1e-3)) / 2
    assert torch.allclose(fsq.quantize(z), expected)


def test_straight_through_gradient():
    fsq = FSQ([8, 5, 5, 5])
    z = torch.randn(10, 4, requires_grad=True)
    fsq.quantize(z).sum().backward()
    assert z.grad is not None and torch.all(z.grad > 0)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="levels"):
        FSQ([1, 5])
    fsq = FSQ([8, 5])
    with pytest.raises(ValueError, match="last dimension must be 2"):
        fsq.quantize(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"\[0, 40\)"):
        fsq.indices_to_codes(torch.tensor([40]))
    with pytest.raises(ValueError, match="integer"):
        fsq.indices_to_codes(torch.tensor([1.0]))
