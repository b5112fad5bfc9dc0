"""Regenerate docs/scenarios/wef.png and print the figures quoted in docs/scenarios/wef.md:
the three WEF clusters' emissions to 2050 against a linear net-zero path, with all four
pillars on, each pillar off in turn, and all off (seed 0, the scenarios' default sizes).

    .venv/bin/python docs/scenarios/make_wef_plot.py
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from hydra.core.global_hydra import GlobalHydra  # noqa: E402

from sim.params import to_config  # noqa: E402
from sim.run import compose, run_model  # noqa: E402

CLUSTERS = {"wef_teda": "TEDA, Tianjin (scope 1+2)", "wef_dunkerque": "Dunkerque (scope 1)", "wef_lfec": "LFEC, Louisiana (scope 1+2)"}
PILLARS = ("partnerships", "policy", "technology", "finance")
VARIANTS = {"all pillars on": []}
VARIANTS.update({f"{p} off": [f"scenario.programmes.wef_pillars.{p}=false"] for p in PILLARS})
VARIANTS["all pillars off"] = [f"scenario.programmes.wef_pillars.{p}=false" for p in PILLARS]
STYLE = {"all pillars on": dict(color="tab:green", lw=2.5), "all pillars off": dict(color="tab:red", lw=2.5),
         "partnerships off": dict(color="tab:blue", lw=1, ls="--"), "policy off": dict(color="tab:purple", lw=1, ls="--"),
         "technology off": dict(color="tab:orange", lw=1, ls="--"), "finance off": dict(color="tab:brown", lw=1, ls="--")}


def tracked(res) -> dict[int, float]:
    nz = res.summary["programmes"]["net_zero_tracker"]
    return {int(y): v for y, v in nz["emissions_t_co2_by_year"].items()}, {int(y): v for y, v in nz["net_zero_path_t_co2_by_year"].items()}


def main() -> None:
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    for ax, (name, title) in zip(axes, CLUSTERS.items()):
        print(f"\n{name}")
        path = None
        for label, ov in VARIANTS.items():
            cfg = to_config(compose([f"scenario={name}", *ov]))
            GlobalHydra.instance().clear()
            res = run_model(cfg)
            em, path = tracked(res)
            ys = sorted(em)
            ax.plot(ys, [em[y] / 1e6 for y in ys], label=label, **STYLE[label])
            s = res.summary
            infra = {k: s["programmes"][k]["first_operating_year"] for k in ("co2_transport_storage", "hydrogen_network")}
            print(f"  {label:18s} base {em[ys[0]] / 1e6:7.2f} Mt  2030 {em[2030] / 1e6:7.2f}  2040 {em[2040] / 1e6:7.2f}  "
                  f"2050 {em[2050] / 1e6:7.2f} ({em[2050] / em[ys[0]]:.0%} of base)  cumulative {sum(em.values()) / 1e6:8.1f} Mt  "
                  f"networks operating from {infra}")
        ys = sorted(path)
        ax.plot(ys, [path[y] / 1e6 for y in ys], color="black", ls=":", lw=1.5, label="linear path to net zero 2050")
        ax.set_title(title)
        ax.set_xlabel("year")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("emissions, Mt CO2/yr")
    axes[2].legend(fontsize=8, loc="lower left")
    fig.suptitle("WEF Transitioning Industrial Clusters: emissions to 2050 with the four pillars switched on and off (seed 0)")
    fig.tight_layout()
    out = Path(__file__).with_name("wef.png")
    fig.savefig(out, dpi=110)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
