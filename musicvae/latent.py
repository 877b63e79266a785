"""Latent-space operations of the paper's §5: spherical interpolation between codes and attribute vector arithmetic.

Convention: a scalar t (or amount) keeps the shape of the codes; a 1-D tensor of K steps adds a leading K dim, so
codes [Z] give [K, Z] and a batch [N, Z] gives [K, N, Z]."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _steps(t: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """t as a tensor with one trailing singleton per dim of `like`, so it broadcasts ahead of the codes."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    return t.reshape(*t.shape, *[1] * like.dim())


def slerp(p0: torch.Tensor, p1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Magenta's slerp, sin((1−t)ω)/sin ω·p0 + sin(tω)/sin ω·p1 with ω the angle between p0 and p1 (last dim),
    made safe: the cosine is clipped to [-1, 1], and (anti)parallel codes, whose great circle is undefined (0/0),
    fall back to the straight line. A cosine k ulps off ±1 puts ω near √(k·eps), so sin ω < 16·√eps counts as
    (anti)parallel. Endpoints are exact: the coefficients are computed before scaling the codes."""
    t = _steps(t, p0)
    cos = (F.normalize(p0, dim=-1) * F.normalize(p1, dim=-1)).sum(dim=-1, keepdim=True).clamp(-1, 1)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    parallel = sin.abs() < 16 * torch.finfo(sin.dtype).eps ** 0.5
    sin = torch.where(parallel, torch.ones_like(sin), sin)
    c0 = torch.where(parallel, 1 - t, torch.sin((1 - t) * omega) / sin)
    c1 = torch.where(parallel, t, torch.sin(t * omega) / sin)
    return c0 * p0 + c1 * p1


def interpolation_path(z_a: torch.Tensor, z_b: torch.Tensor, steps: int) -> torch.Tensor:
    """The `steps` codes [K, ...] at t = linspace(0, 1, K) on the slerp from z_a to z_b, as Magenta's `interpolate`."""
    return slerp(z_a, z_b, torch.linspace(0, 1, steps, dtype=z_a.dtype, device=z_a.device))


def attribute_vector(z: torch.Tensor, values: torch.Tensor, quantile: float = 0.25) -> torch.Tensor:
    """[Z] mean code of the examples z [N, Z] whose attribute `values` [N] is in the top quantile minus that of the
    bottom quantile. Quantiles are thresholds (torch.quantile, linear), so tied values fall on the same side; neither
    group is ever empty, and constant values give a zero vector."""
    values = torch.as_tensor(values, dtype=z.dtype, device=z.device)
    top = values >= torch.quantile(values, 1 - quantile)
    bottom = values <= torch.quantile(values, quantile)
    return z[top].mean(dim=0) - z[bottom].mean(dim=0)


def apply_attribute(z: torch.Tensor, vector: torch.Tensor, amount: float | torch.Tensor) -> torch.Tensor:
    """z + amount·vector; a 1-D tensor of K amounts gives K shifted codes [K, ...] (the paper's gradations)."""
    return z + _steps(amount, z) * vector
