"""The curves' figures read as a user expects: a share of another scale on an axis of its own, whole bars."""

import matplotlib.pyplot as plt

from musicvae.figures import curve_figure


def test_a_quantity_of_another_scale_gets_its_own_axis():
    rows = [
        {"step": s, "accuracy": 0.6 + s / 1e4, "majority_accuracy": 0.64, "gap_share": s / 500} for s in (200, 400, 600)
    ]
    fig = curve_figure(rows, "step", "share", "Learning", right=("gap_share", "gap / r_loss"))
    shares, gap = fig.axes
    assert [line.get_label() for line in shares.get_lines()] == ["accuracy", "majority_accuracy"]
    assert [line.get_label() for line in gap.get_lines()] == ["gap_share"] and gap.get_ylabel() == "gap / r_loss"
    assert shares.get_ylim()[1] < 1  # the accuracies are not flattened under a share of 1.2
    assert [t.get_text() for t in shares.get_legend().get_texts()] == ["accuracy", "majority_accuracy", "gap_share"]
    plt.close(fig)


def test_bars_are_ticked_whole():
    fig = curve_figure([{"bar": b, "greedy": 0.5 + b / 100} for b in (1, 2)], "bar", "accuracy", "per bar")
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    assert len(ticks) > 1 and all(float(t).is_integer() for t in ticks)
    plt.close(fig)
