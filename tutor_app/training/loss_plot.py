"""The loss curve as a PNG, so a teacher or IT person sees at a glance whether training learned.

matplotlib's Agg backend draws without a screen (the school's server has none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def plot_losses(losses: Sequence[tuple[int, float]], path: str | Path, *, title: str = "Training loss") -> Path:
    """``losses``: (step, loss) pairs. An empty run still gets a plot that says so."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=100)
    try:
        if losses:
            steps, values = zip(*losses)
            axes.plot(steps, values, marker="o" if len(losses) <= 50 else None, linewidth=1.5)
        else:
            axes.text(0.5, 0.5, "no steps were trained", ha="center", va="center", transform=axes.transAxes)
        axes.set_xlabel("step")
        axes.set_ylabel("loss (assistant tokens)")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path
