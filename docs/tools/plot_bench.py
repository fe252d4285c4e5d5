"""Draw docs/performance.md's figures from the JSON the commands there write (matplotlib, a docs-only
tool: `pip install matplotlib`).

    python docs/tools/plot_bench.py sweep  bench-sweep.json  docs/img/it_s_vs_batch.png
    python docs/tools/plot_bench.py ttg    seed.json dcgan.json  docs/img/time_to_good.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ganlab.config import make_config  # noqa: E402


def sweep(src: str, out: str) -> None:
    result = json.load(open(src))
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=120)
    for prec, style in (("fp32", "-o"), ("bf16", "-s")):
        rows = [r for r in result["rows"] if r["precision"] == prec and not r.get("compile")]
        ax.plot([r["batch_size"] for r in rows], [r["ganlab_it_s"] for r in rows], style, label=f"ganlab, {prec}")
    rows = [r for r in result["rows"] if "seed_it_s" in r]
    ax.plot([r["batch_size"] for r in rows], [r["seed_it_s"] for r in rows], "-^", color="gray", label="seed loop")
    ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel="iterations / s",
           title=f"seed preset on MNIST, {result['device']}, {result['threads']} threads")
    ax.set_xticks([r["batch_size"] for r in rows], [str(r["batch_size"]) for r in rows])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)


def _label(r: dict) -> str:
    """The run's model and what it sets beyond its default recipe (older JSONs have no "config": that recipe)."""
    base = make_config(data=r["data"], model=r["model"])
    c = {**vars(base), **r.get("config", {})}
    parts = [f"batch {r['batch_size']}", f"lr {r['lr_g']:g}"]
    if (c["beta1"], c["beta2"]) != (base.beta1, base.beta2):
        parts.append(f"β ({c['beta1']:g}, {c['beta2']:g})")
    if c["r1"]:
        parts.append(f"R1 γ {c['r1']:g}" + (f" every {c['r1_every']}" if c["r1_every"] > 1 else ""))
    if c["ema"]:
        parts.append(f"avg {c['ema']:g}")
    if c["lr_decay"] != base.lr_decay:
        parts.append(f"decay {c['lr_decay']:g}")
    if c["precision"] != base.precision:
        parts.append(c["precision"])
    return f"{r['model']} ({', '.join(parts)})"


def ttg(sources: list[str], out: str) -> None:
    fig, ax = plt.subplots(figsize=(7.2, 4.2 + 0.22 * len(sources)), dpi=120)
    for src in sources:
        r = json.load(open(src))
        ax.plot([t["train_seconds"] for t in r["trace"]], [t["frechet_over_floor"] for t in r["trace"]], "-o",
                markersize=3, label=_label(r))
    ax.axhline(3, color="gray", ls="--", label="target: 3x the floor")
    ax.set(yscale="log", xlabel="training seconds (2-core CPU)", ylabel="Fréchet distance / real-data floor",
           title="time to a good MNIST generator")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, frameon=False)   # below: labels are long
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    kind, *paths = sys.argv[1:]
    (sweep(paths[0], paths[1]) if kind == "sweep" else ttg(paths[:-1], paths[-1]))
