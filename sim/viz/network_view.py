"""The firm network as a picture: firms grouped by cluster association, coloured by the
number of measures adopted or by sector, sized by emissions.

Large scenarios show a representative sample of at most ``MAX_SHOWN`` firms: within each
association (and the firms in none), firms are ordered by sector and emissions and taken at
even intervals, so the sample keeps each group's sector mix and size spread. The sample is
deterministic (no random draws) and is fixed for a model, so the picture changes only
because firms change.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .charts import DPI, DRAWERS, Blitter
from .i18n import name, t

MAX_SHOWN = 1000
MAX_EDGES_DRAWN = 4000
_GOLDEN = np.pi * (3.0 - np.sqrt(5.0))


@dataclass
class Layout:
    sample: np.ndarray  # [m] firm ids shown
    xy: np.ndarray  # [m, 2] positions
    segments: np.ndarray  # [e, 2, 2] ties among shown firms
    groups: list[tuple[int, float, float, float]]  # (cluster index or -1, centre x, centre y, radius)


def sample_firms(cluster: np.ndarray, sector: np.ndarray, emissions: np.ndarray, max_shown: int = MAX_SHOWN) -> np.ndarray:
    """Firm ids to show: all firms when there are at most ``max_shown``, else a systematic
    sample within each group proportional to its size (every group keeps at least one)."""
    n = len(cluster)
    if n <= max_shown:
        return np.arange(n)
    out = []
    groups = np.unique(cluster)
    sizes = np.array([(cluster == g).sum() for g in groups])
    quota = np.maximum(1, np.floor(sizes * max_shown / n)).astype(int)
    for g, q in zip(groups, quota):
        members = np.flatnonzero(cluster == g)
        order = members[np.lexsort((-emissions[members], sector[members]))]
        pick = np.unique(np.linspace(0, len(order) - 1, q).round().astype(int))
        out.append(order[pick])
    return np.sort(np.concatenate(out))


def build_layout(model, max_shown: int = MAX_SHOWN) -> Layout:
    ft = model.firms
    em = model.scope1_rate + model.scope2_rate
    sample = sample_firms(ft.cluster, ft.sector, em, max_shown)
    cl = ft.cluster[sample]
    gids = np.unique(cl)
    G = len(gids)
    xy = np.zeros((len(sample), 2))
    counts = np.array([(cl == g).sum() for g in gids])
    ring = 1.0 if G > 1 else 0.0
    max_r = min(0.85 * np.sin(np.pi / G), 0.75) if G > 1 else 1.0
    groups = []
    for j, g in enumerate(gids):
        ang = 2 * np.pi * j / max(G, 1) + np.pi / 2
        cx, cy = ring * np.cos(ang), ring * np.sin(ang)
        r = max_r * np.sqrt(counts[j] / counts.max())
        idx = np.flatnonzero(cl == g)
        # sunflower spiral, ordered by sector: sectors form rings inside the group
        idx = idx[np.argsort(ft.sector[sample[idx]], kind="stable")]
        i = np.arange(len(idx))
        rad = r * np.sqrt((i + 0.5) / len(idx))
        xy[idx, 0] = cx + rad * np.cos(i * _GOLDEN)
        xy[idx, 1] = cy + rad * np.sin(i * _GOLDEN)
        groups.append((int(g), cx, cy, r))
    pos = np.full(model.n_firms, -1, dtype=np.int64)
    pos[sample] = np.arange(len(sample))
    net = model.network
    a, b = pos[net.src], pos[net.dst]
    keep = np.flatnonzero((a >= 0) & (b >= 0))
    if len(keep) > MAX_EDGES_DRAWN:
        keep = keep[np.linspace(0, len(keep) - 1, MAX_EDGES_DRAWN).round().astype(int)]
    segments = np.stack([xy[a[keep]], xy[b[keep]]], axis=1) if len(keep) else np.zeros((0, 2, 2))
    return Layout(sample, xy, segments, groups)


def layout_of(sim) -> Layout:
    lay = sim.extras.get("layout")
    if lay is None:
        lay = sim.extras["layout"] = build_layout(sim.model)
    return lay


class NetworkPicture:
    """The network drawn once per model, language and colouring; each step redraws only the
    firms (colour, size) and the selection ring on the cached background."""

    def __init__(self, sim, lang: str, color_by: str):
        import matplotlib

        m = sim.model
        self.lay = lay = layout_of(sim)
        self.color_by = color_by
        s, ft = lay.sample, m.firms
        fig = Figure(figsize=(6.4, 5.6), dpi=DPI)
        fig.subplots_adjust(left=0.01, right=0.7 if color_by == "sector" else 0.9, bottom=0.01, top=0.99)
        ax = fig.add_subplot()
        ax.set_aspect("equal")
        ax.set_axis_off()
        if len(lay.segments):
            ax.add_collection(LineCollection(lay.segments, colors="0.55", linewidths=0.4, alpha=0.25, zorder=1))
        if color_by == "sector":
            self.cmap = matplotlib.colormaps["tab20"]
            handles = [matplotlib.lines.Line2D([], [], marker="o", ls="", color=self.cmap(i % 20), ms=6,
                                               label=name(lang, "sector", sn))
                       for i, sn in enumerate(m.sector_names) if (ft.sector[s] == i).any()]
            ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
                      title=t(lang, "color_sector"), title_fontsize=8)
        else:
            self.cmap = matplotlib.colormaps["viridis_r"]
            #: colour scale: 0 .. the most measures any shown firm could adopt
            self.hi = max(int(ft.applicable[s].sum(axis=1).max()), 1)
            sm = matplotlib.cm.ScalarMappable(cmap=self.cmap, norm=matplotlib.colors.Normalize(0, self.hi))
            cb = fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.01)
            cb.set_label(t(lang, "n_measures_adopted") + " (0 = grey)" if lang == "en" else
                         t(lang, "n_measures_adopted") + " (0 = gris)", fontsize=8)
        for g, cx, cy, r in lay.groups:
            label = name(lang, "cluster", m.clusters[g].name) if g >= 0 else t(lang, "no_cluster")
            ax.text(cx, cy + r + 0.06, label, ha="center", va="bottom", fontsize=8, color="0.2")
        self.dots = ax.scatter(lay.xy[:, 0], lay.xy[:, 1], s=10.0, c="0.8", linewidths=0, zorder=2)
        self.ring = ax.scatter([], [], s=260, facecolors="none", edgecolors="red", linewidths=2.0, zorder=3)
        ax.set_xlim(lay.xy[:, 0].min() - 0.35, lay.xy[:, 0].max() + 0.35)  # room for group labels
        ax.set_ylim(lay.xy[:, 1].min() - 0.1, lay.xy[:, 1].max() + 0.25)
        self.blit = Blitter(fig, [self.dots, self.ring])
        self.fig, self.ax = fig, ax

    def firm_at(self, x_share: float, y_share: float, max_dist: float = 0.06) -> int | None:
        """The shown firm nearest to a click at (x_share, y_share) of the picture (0-1 from the
        top-left corner), or None when no firm is within ``max_dist`` layout units."""
        w, h = self.blit.canvas.get_width_height()
        x, y = self.ax.transData.inverted().transform((x_share * w, (1.0 - y_share) * h))
        d = np.hypot(self.lay.xy[:, 0] - x, self.lay.xy[:, 1] - y)
        i = int(d.argmin())
        return int(self.lay.sample[i]) if d[i] <= max_dist else None

    def png(self, sim, selected: int = -1) -> bytes:
        m = sim.model
        s, ft = self.lay.sample, m.firms
        em = (m.scope1_rate + m.scope2_rate)[s]
        self.dots.set_sizes(6.0 + 110.0 * np.sqrt(em / max(float(em.max()), 1e-9)))
        if self.color_by == "sector":
            colors = self.cmap(ft.sector[s] % 20)
        else:
            n_ad = ft.adopted[s].sum(axis=1)
            colors = self.cmap(0.1 + 0.9 * np.minimum(n_ad / self.hi, 1.0))
            colors[n_ad == 0] = (0.82, 0.82, 0.82, 1.0)
        self.dots.set_facecolor(colors)
        hit = np.flatnonzero(s == selected)
        self.ring.set_offsets(self.lay.xy[hit[:1]] if len(hit) else np.zeros((0, 2)))
        return self.blit.png()


def _picture(sim, lang: str, color_by: str):
    """(picture, lock): shared by simulations with the same settings (same firms, same layout)."""
    return DRAWERS.get(("network", lang, color_by, tuple(sim.settings.overrides())),
                       lambda: NetworkPicture(sim, lang, color_by), lambda p: True)


def picture(sim, lang: str, color_by: str) -> NetworkPicture:
    return _picture(sim, lang, color_by)[0]


def render(sim, lang: str, color_by: str = "adoption", selected: int = -1) -> bytes:
    """PNG of the network for the simulation's current state (call under ``sim.lock``)."""
    pic, lock = _picture(sim, lang, color_by)
    with lock:
        return pic.png(sim, selected)


def firm_at(sim, lang: str, color_by: str, x_share: float, y_share: float) -> int | None:
    """The firm under a click on the picture (see ``NetworkPicture.firm_at``)."""
    return picture(sim, lang, color_by).firm_at(x_share, y_share)
