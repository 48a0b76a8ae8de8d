"""The sweep's plot: each latency against the number of drivers, taxi beside its floor."""

from __future__ import annotations

from .report import LATENCIES


def plot_sweep(points: list[dict], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    drivers = [p["drivers"] for p in points]
    figure, axes = plt.subplots(1, len(LATENCIES), figsize=(15, 4.8), sharex=True)
    for ax, (name, label) in zip(axes, LATENCIES.items()):
        for run, color in (("taxi", "tab:blue"), ("floor", "tab:gray")):
            for q, style in (("p50", "-"), ("p99", "--")):
                ax.plot(drivers, [p[run][name][q] for p in points], style, color=color, marker="o",
                        label=f"{run} {q}")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(drivers, [str(d) for d in drivers])
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("connected drivers")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms")
    axes[0].legend(fontsize=8)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
