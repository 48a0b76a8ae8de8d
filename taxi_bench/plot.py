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


def plot_soak(samples: list[dict], path: str, title: str, warm_up_trips: int, bound: float) -> None:
    """RSS of the router worker and the backend over the trips, the bound each must end under,
    and (below) the trip topics the router holds meanwhile; the last sample, after the grace,
    drawn as a point of its own."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run, after = [s for s in samples if s["phase"] == "run"], samples[-1]
    figure, (memory, held) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=(3, 1))
    _draw_memory(memory, run, after, warm_up_trips, bound)
    trips = [s["trips"] for s in run]
    held.plot(trips, [s["retained"] for s in run], color="tab:blue", label="trip topics retained")
    held.plot(trips, [s["in_grace"] for s in run], color="tab:green", linestyle="--", label="of which in their grace")
    held.plot([after["trips"]], [after["retained"]], "o", color="tab:blue", label="retained after the grace")
    held.set_ylabel("router holds")
    held.set_xlabel("trips completed")
    # Room above the counts for their legend, which would hide them anywhere else.
    held.set_ylim(0, 1.5 * max([s["retained"] for s in samples] + [1]))
    held.legend(fontsize=8, loc="upper left", ncol=3)
    memory.set_ylim(bottom=0)
    memory.legend(fontsize=8, loc="lower right")
    for ax in (memory, held):
        ax.grid(True, alpha=0.3)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _draw_memory(ax, run: list[dict], after: dict, warm_up_trips: int, bound: float) -> None:
    trips = [s["trips"] for s in run]
    for process, label, color in (("router", "router worker", "tab:blue"), ("backend", "backend", "tab:orange")):
        key = f"{process}_rss_mb"
        ax.plot(trips, [s[key] for s in run], color=color, label=f"{label} RSS")
        ax.plot([after["trips"]], [after[key]], "o", color=color, label=f"{label}, after the grace")
        warm = next(s[key] for s in run if s["trips"] >= warm_up_trips)
        ax.axhline(warm * (1 + bound), color=color, linestyle=":", label=f"{label}'s bound: warm-up + {bound:.0%}")
    ax.axvline(warm_up_trips, color="gray", linestyle="--", linewidth=0.8, label="end of the warm-up")
    ax.set_ylabel("RSS, MiB")


def plot_city_sweep(points: list[dict], path: str, title: str) -> None:
    """The city's sweep: router CPU per trip (with the positions paused, net of the position
    updates, and gross), and the times to the first offer and to the accept, against the
    number of drivers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drivers = [p["drivers"] for p in points]
    figure, (cpu, latency) = plt.subplots(1, 2, figsize=(12, 4.8), sharex=True)
    lines = [(lambda p: p["cpu_ms_per_trip_net"], "net of positions", "--")]
    if all(p.get("paused") for p in points):  # the goal's figure, when every point has it
        lines.insert(0, (lambda p: p["paused"]["cpu_ms_per_trip"], "positions paused, less idle", "-"))
    for figure_of, label, style in lines:
        cpu.plot(drivers, [figure_of(p)["router"] for p in points], style, color="tab:blue", marker="o", label=label)
    cpu.axhline(1.5 * lines[0][0](points[0])["router"], color="tab:red", linewidth=0.8,
                label=f"goal: 1.5 × {lines[0][1]} at {drivers[0]}")  # fmt: skip
    cpu.axhline(0, color="black", linewidth=0.5)
    highest = max([1.5 * lines[0][0](points[0])["router"]] + [f(p)["router"] for f, _, _ in lines for p in points])
    cpu.set_ylim(top=1.5 * highest)  # room for the legends above the lines
    # Gross is mostly the position updates (D/10 a second): ten times the others at 3,000
    # drivers, so on an axis of its own, or it flattens them.
    gross = cpu.twinx()
    gross.plot(drivers, [p["cpu_ms_per_trip"]["router"] for p in points], ":", color="tab:gray", marker="s",
               label="gross, with the positions (right axis)")  # fmt: skip
    gross.set_ylim(bottom=0)
    gross.tick_params(axis="y", colors="tab:gray")
    gross.legend(fontsize=8, loc="upper right")
    cpu.set_title("router CPU ms per trip", fontsize=10)
    for name, label, color in (("first_offer_ms", "request → first offer", "tab:green"),
                               ("accept_ms", "request → accepted", "tab:orange")):  # fmt: skip
        for q, style in (("p50", "-"), ("p99", "--")):
            latency.plot(drivers, [p[name][q] for p in points], style, color=color, marker="o", label=f"{label} {q}")
    latency.set_yscale("log")
    latency.set_title("latency, ms", fontsize=10)
    for ax in (cpu, latency):
        ax.set_xscale("log")
        ax.set_xticks(drivers, [str(d) for d in drivers])
        ax.set_xlabel("drivers in the city")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left" if ax is cpu else "best")
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
