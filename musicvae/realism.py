"""How much a model's samples from the prior are like real melodies: for each of the paper's melody attributes, the
overlapping area of its distribution over the samples and over real windows (after Yang & Lerch 2020, "On the
evaluation of generative models in music"). 1 is the same distribution, 0 none in common.

It prices what reconstruction costs: a code that carries more bits (a smaller β) reconstructs better and leaves
more of the prior's volume to decode into what no melody is like. Two finite sets of real windows overlap by less
than 1 too, so the same measure on real windows against real windows is its ceiling."""

from __future__ import annotations

import numpy as np

from musicvae.attributes import ATTRIBUTES

BINS = 20  # over the two sets' joint range: coarse enough that a thousand windows fill them


def overlapping_area(a: np.ndarray, b: np.ndarray, bins: int = BINS) -> float:
    """The area two samples' histograms share, on common bins: 1 for the same distribution, 0 for disjoint ones."""
    low, high = min(a.min(), b.min()), max(a.max(), b.max())
    if low == high:  # both constant at one value
        return 1.0
    edges = np.linspace(low, high, bins + 1)
    p = np.histogram(a, edges)[0] / len(a)
    q = np.histogram(b, edges)[0] / len(b)
    return float(np.minimum(p, q).sum())


def attribute_overlap(generated: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Each attribute's overlapping area between melody windows [N, T] and real ones [M, T], and their mean."""
    overlap = {name: overlapping_area(attribute(generated), attribute(real)) for name, attribute in ATTRIBUTES.items()}
    return overlap | {"mean": float(np.mean(list(overlap.values())))}
