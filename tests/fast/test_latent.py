"""Slerp and attribute arithmetic: exact endpoints, the sphere kept, degenerate pairs safe, shapes as documented."""

import math

import numpy as np
import pytest
import torch

from musicvae.latent import apply_attribute, attribute_vector, interpolation_path, slerp

T = torch.linspace(0, 1, 11, dtype=torch.float64)


def codes(n, z=8, seed=0):
    return torch.randn(n, z, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def magenta_slerp(p0, p1, t):
    """trained_model.py's formula, unguarded."""
    omega = np.arccos(np.dot(p0 / np.linalg.norm(p0), p1 / np.linalg.norm(p1)))
    return np.sin((1 - t) * omega) / np.sin(omega) * p0 + np.sin(t * omega) / np.sin(omega) * p1


def test_endpoints_are_exact():
    p0, p1 = codes(2, seed=1)
    assert torch.equal(slerp(p0, p1, 0.0), p0) and torch.equal(slerp(p0, p1, 1.0), p1)
    path = slerp(p0, p1, T)
    assert torch.equal(path[0], p0) and torch.equal(path[-1], p1)


def test_orthogonal_unit_codes_walk_the_quarter_circle():
    e0, e1 = torch.eye(2, dtype=torch.float64)
    torch.testing.assert_close(slerp(e0, e1, 0.5), torch.tensor([1.0, 1.0], dtype=torch.float64) / math.sqrt(2))
    torch.testing.assert_close(slerp(e0, e1, 1 / 3), torch.tensor([math.sqrt(3) / 2, 0.5], dtype=torch.float64))


def test_matches_magentas_formula_on_generic_codes():
    p0, p1 = codes(2, seed=2)
    p1 = 3 * p1  # unequal norms too
    expected = np.stack([magenta_slerp(p0.numpy(), p1.numpy(), t) for t in T.tolist()])
    np.testing.assert_allclose(slerp(p0, p1, T).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_codes_of_equal_norm_stay_on_their_sphere():
    p = 3 * torch.nn.functional.normalize(codes(2, z=16, seed=3), dim=-1)
    norms = slerp(p[0], p[1], T).norm(dim=-1)
    torch.testing.assert_close(norms, torch.full_like(norms, 3.0))
    assert (torch.lerp(p[0], p[1], 0.5).norm() < 2.9).item()  # which a straight line would not


@pytest.mark.parametrize("scale", [2.0, 1.0, -1.0, -0.5])  # parallel, identical, antiparallel
def test_parallel_and_antiparallel_codes_fall_back_to_the_straight_line(scale):
    p0 = codes(1, seed=4)[0]
    p1 = scale * p0
    path = slerp(p0, p1, T)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, (1 - T[:, None]) * p0 + T[:, None] * p1)


@pytest.mark.parametrize("scale", [1.0, -1.0])
def test_rounding_past_a_cosine_of_one_is_clipped(scale):
    p0 = codes(64, seed=14).float()  # in float32 a good share of these have a normalized self-dot above 1
    path = slerp(p0, scale * p0, T.float())
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, torch.lerp(p0, scale * p0, T.float()[:, None, None]))


def test_nearly_parallel_codes_stay_finite_and_close_to_the_line():
    p0 = codes(1, seed=5)[0].float()
    p1 = p0 + 1e-6 * codes(1, seed=6)[0].float()
    path = slerp(p0, p1, T.float())
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, torch.lerp(p0, p1, T.float()[:, None]), atol=1e-5, rtol=1e-5)


def test_a_small_angle_above_rounding_noise_is_still_spherical():
    e0, e1 = torch.eye(2, dtype=torch.float64)
    omega = 1e-5  # far above float64's noise, far below float32's
    p1 = math.cos(omega) * e0 + math.sin(omega) * e1
    expected = np.stack([magenta_slerp(e0.numpy(), p1.numpy(), t) for t in T.tolist()])
    np.testing.assert_allclose(slerp(e0, p1, T).numpy(), expected, rtol=1e-9, atol=1e-15)
    torch.testing.assert_close(slerp(e0, p1, T).norm(dim=-1), torch.ones(11, dtype=torch.float64), rtol=1e-15, atol=0)


def test_shapes_put_the_steps_first():
    p0, p1 = codes(3, seed=7), codes(3, seed=8)
    assert slerp(p0[0], p1[0], 0.3).shape == (8,)
    assert slerp(p0[0], p1[0], T).shape == (11, 8)
    assert slerp(p0, p1, 0.3).shape == (3, 8)
    batch = slerp(p0, p1, T)
    assert batch.shape == (11, 3, 8)
    torch.testing.assert_close(batch[4, 2], slerp(p0[2], p1[2], T[4]))


def test_interpolation_path_spans_both_codes_in_equal_steps():
    z_a, z_b = codes(2, seed=9)
    path = interpolation_path(z_a, z_b, 5)
    assert path.shape == (5, 8)
    assert torch.equal(path[0], z_a) and torch.equal(path[-1], z_b)
    torch.testing.assert_close(path[2], slerp(z_a, z_b, 0.5))


def test_attribute_vector_is_top_quartile_mean_minus_bottom_quartile_mean():
    values = torch.arange(8.0)
    z = torch.stack([values, torch.ones(8), (-1.0) ** values], dim=1)
    # Quartiles of 0..7 fall at 1.75 and 5.25: bottom {0, 1}, top {6, 7}; the alternating dim cancels in each.
    assert attribute_vector(z, values).tolist() == [6.0, 0.0, 0.0]
    # Halves at 3.5: bottom 0..3, top 4..7.
    assert attribute_vector(z, values, quantile=0.5).tolist() == [4.0, 0.0, 0.0]


def test_attribute_vector_keeps_ties_together_and_is_zero_without_variation():
    z = codes(6, seed=10)
    values = torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0, 2.0])
    # Quartiles at positions 1.25 and 3.75 of the sorted values: 0 and 0.75, so the bottom holds all four zeros.
    torch.testing.assert_close(attribute_vector(z, values), z[4:].mean(0) - z[:4].mean(0))
    assert torch.equal(attribute_vector(z, torch.ones(6)), torch.zeros(8, dtype=torch.float64))


def test_attribute_vector_finds_the_direction_that_carries_the_attribute():
    z = codes(400, seed=11)
    vector = attribute_vector(z, z[:, 0])
    assert torch.nn.functional.cosine_similarity(vector, torch.eye(8, dtype=torch.float64)[0], dim=0) > 0.9


def test_apply_attribute_shifts_codes_by_amounts():
    z, vector = codes(2, z=4, seed=12)
    torch.testing.assert_close(apply_attribute(z, vector, 2.0), z + 2 * vector)
    amounts = torch.tensor([-1.0, 0.0, 1.5], dtype=torch.float64)
    torch.testing.assert_close(apply_attribute(z, vector, amounts), torch.stack([z - vector, z, z + 1.5 * vector]))
    batch = codes(5, z=4, seed=13)
    assert apply_attribute(batch, vector, amounts).shape == (3, 5, 4)
