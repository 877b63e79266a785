"""The evaluation's pictures as PNG bytes: piano rolls of windows (one panel each, bar lines every 16 steps), curves
and the attribute-effect heat map. PNGs carry no version stamp, so the same data gives the same bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only; never a display
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from musicvae.codecs.melody import STEPS_PER_BAR
from musicvae.export import window_parts

COLOURS = {False: ("tab:blue", "tab:green"), True: ("tab:red",)}  # melodic parts in order; drums


def piano_roll_png(kind: str, windows: list[np.ndarray], titles: list[str], title: str = "") -> bytes:
    """Windows stacked vertically, each a piano roll; drum hits are drawn at their General MIDI pitch."""
    fig, axes = plt.subplots(len(windows), 1, figsize=(12, 1.0 + 1.3 * len(windows)), squeeze=False, sharex=True)
    for ax, tokens, label in zip(axes[:, 0], windows, titles):
        pitches = []
        for part, (notes, _, is_drum) in enumerate(window_parts(kind, tokens)):
            colour = COLOURS[is_drum][0 if is_drum else part]
            for pitch, start, end in notes:
                ax.add_patch(matplotlib.patches.Rectangle((start, pitch - 0.4), end - start, 0.8, color=colour))
                pitches.append(pitch)
        low, high = (min(pitches), max(pitches)) if pitches else (60, 72)
        ax.set_ylim(low - 2, high + 2)
        ax.set_xlim(0, len(tokens))
        for bar in range(0, len(tokens) + 1, STEPS_PER_BAR):
            ax.axvline(bar, color="0.85", lw=0.6, zorder=0)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("step (16th note)")
    if title:
        fig.suptitle(title)
    return _png(fig)


def heat_map_png(matrix: np.ndarray, rows: list[str], columns: list[str], title: str, unit: str) -> bytes:
    """A signed matrix with its values written in the cells (the paper's attribute-effect figure)."""
    fig, ax = plt.subplots(figsize=(1.4 * len(columns) + 2, 0.8 * len(rows) + 1.5))
    bound = float(np.abs(matrix).max()) or 1.0
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-bound, vmax=bound)
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:+.2f}", ha="center", va="center", fontsize=8)
    ax.set_xlabel("attribute measured")
    ax.set_ylabel("vector applied")
    fig.colorbar(image, label=unit)
    ax.set_title(title)
    return _png(fig)


def kl_per_dim_png(steps: list[int], kl_bits: np.ndarray, title: str) -> bytes:
    """KL of every latent dimension (columns) at every validation step (rows), in bits: which dimensions carry the
    code, and from when (free bits let each carry at most its share before the KL term pulls it back)."""
    fig, ax = plt.subplots(figsize=(11, 1.5 + 0.25 * min(len(steps), 40)))  # a long run's rows get thinner
    image = ax.imshow(kl_bits, cmap="viridis", vmin=0, aspect="auto", interpolation="nearest")
    every = -(-len(steps) // 40)
    ax.set_yticks(range(0, len(steps), every), [str(s) for s in steps[::every]], fontsize=7)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("step")
    fig.colorbar(image, label="KL, bits")
    ax.set_title(title)
    return _png(fig)


def curve_png(
    rows: list[dict], x: str, ylabel: str, title: str, log: bool = False, right: tuple[str, str] | None = None
) -> bytes:
    return _png(curve_figure(rows, x, ylabel, title, log, right))


def curve_figure(
    rows: list[dict], x: str, ylabel: str, title: str, log: bool = False, right: tuple[str, str] | None = None
):
    """Every column but `x` of `rows` as a line over `x`; `log` for quantities spanning decades; `right` (a column
    and its label) on an axis of its own, for a quantity of another scale. Past 5 lines (a study's runs) the legend
    moves beside the axes, and past 10 the colours come from a 20-colour palette, so that no two lines share one."""
    columns = [c for c in rows[0] if c not in (x, "step")]
    many = len(columns) > 5
    colours = plt.get_cmap("tab20" if len(columns) > 10 else "tab10").colors
    fig, ax = plt.subplots(figsize=(11, 4.5) if many else (7, 4))
    other = ax.twinx() if right else None
    for i, column in enumerate(columns):
        # a curve measured at only some of the x values (runs validating at different steps) stays one line
        points = [(row[x], row[column]) for row in rows if row[column] is not None and row[column] == row[column]]
        on = other if right and column == right[0] else ax
        on.plot(
            *zip(*points),
            marker="o",
            label=column,
            color=colours[i % len(colours)],
            linestyle="--" if on is other else "-",
        )
    if log:
        ax.set_yscale("log")
    if all(isinstance(row[x], int) for row in rows):  # bars and steps: no fractional ticks
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if other:
        other.set_ylabel(right[1])
        more = other.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, fontsize=8, **({"loc": "center left", "bbox_to_anchor": (1.08, 0.5)} if many else {}))
    return fig


def _png(fig) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
