"""Time-series charts of a live simulation, drawn with matplotlib's object API (thread-safe:
no pyplot state) into PNG bytes. Every number comes from the model's monthly reporters
(``model.series``, see ``sim/reporters.py``) or its instruments' budgets.

Redraw speed: a chart is built once per model (axes, grid, reference lines, legend) and
only its data artists are redrawn each step on top of the cached background (blitting);
the spending chart is redrawn only when spending changed.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .i18n import name, t

DPI = 80
#: the presenter view's charts: the same figures drawn at 2.5x the pixels, so every text is
#: 2.5x taller (the smallest, 6.5 pt, is 18 px) on a chart shown across a projector's width
PRESENTER_DPI = 200
NET_ZERO_YEAR = 2050
#: the spending chart switches to a log axis when the largest budget is this many times the
#: smallest (one US$ 30 M credit line would otherwise flatten the US$ 0.4 M budgets)
LOG_AXIS_RATIO = 20.0


def canvas_png(canvas: FigureCanvasAgg) -> bytes:
    """PNG of what the canvas holds now (fast zlib level: these images live for one step)."""
    w, h = canvas.get_width_height()
    im = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    im.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def new_figure(w_in: float, h_in: float, left=0.11, right=0.97, bottom=0.15, top=0.9, dpi: int = DPI) -> tuple[Figure, object]:
    fig = Figure(figsize=(w_in, h_in), dpi=dpi)
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
    ax = fig.add_subplot()
    ax.grid(alpha=0.3)
    return fig, ax


class Blitter:
    """A figure whose static part is drawn once; ``png()`` redraws only ``dynamic`` artists."""

    def __init__(self, fig: Figure, dynamic: list):
        self.fig, self.dynamic = fig, dynamic
        for a in dynamic:
            a.set_animated(True)
        self.canvas = FigureCanvasAgg(fig)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def png(self) -> bytes:
        self.canvas.restore_region(self.background)
        for a in self.dynamic:
            self.fig.draw_artist(a)
        return canvas_png(self.canvas)


def roadmap_lines(sim, lang: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Emission paths the scenario provides, as (label, years, t CO2/yr):
    ``scenario.roadmap`` points if the scenario has them; the clusters' roadmap targets
    once a programme (e.g. ``climate_alliance``) has built them - the sum over clusters, which
    covers the member firms only, and is labelled so; a programme's net-zero path
    (``net_zero_tracker``)."""
    m = sim.model
    out = []
    rm = getattr(sim.cfg.scenario, "roadmap", None)
    pts = getattr(rm, "points", None) if rm is not None else None
    if pts:
        years = np.array(sorted(int(y) for y in pts), dtype=float)
        out.append((t(lang, "roadmap"), years, np.array([float(pts[int(y)]) for y in years])))
    for p in getattr(m, "mechanisms", []):
        maps = getattr(p, "roadmaps", None)
        if maps:
            total: dict[int, float] = {}
            for r in maps.values():
                for y, v in getattr(r, "target_t_co2_by_year", {}).items():
                    total[int(y)] = total.get(int(y), 0.0) + float(v)
            if total:
                ys = np.array(sorted(total), dtype=float)
                out.append((t(lang, "roadmap_members"), ys, np.array([total[int(y)] for y in ys])))
        nz = getattr(getattr(p, "params", None), "net_zero_year", None)
        if nz is not None and hasattr(p, "path_t_co2_per_yr"):
            ys = np.array([m.start_year, float(nz)])
            out.append((t(lang, "net_zero_path", year=int(nz)), ys, np.array([p.path_t_co2_per_yr(m.engine, y) for y in ys])))
    return out


def _roadmap_signature(sim) -> tuple:
    return tuple(len(getattr(p, "roadmaps", None) or ()) for p in getattr(sim.model, "mechanisms", []))


def _months_x(model, n: int) -> np.ndarray:
    return model.start_year + (np.arange(n) + 0.5) / 12.0


class EmissionsChart:
    """Scope 1+2 emissions (kt CO2/yr, monthly rate) against the straight line from the
    start-year level to net zero in 2050, the scenario's roadmap if it has one, and the
    previous settings' run (dashed) after a lever change."""

    def __init__(self, sim, lang: str, dpi: int = DPI):
        m = sim.model
        self.start_kt = float(m.total_scope1 + m.total_scope2) / 1e3
        if m.month >= 0:
            self.start_kt = float(m.series["emissions_t_co2"][0] * 12.0 / 1e3)
        fig, ax = new_figure(6.4, 3.2, left=0.14, dpi=dpi)
        x0, x1 = m.start_year, max(m.end_year + 1, NET_ZERO_YEAR)
        ax.plot([x0, NET_ZERO_YEAR], [self.start_kt, 0.0], color="0.45", lw=1.2, ls=":", label=t(lang, "path_2050"))
        ax.axvline(NET_ZERO_YEAR, color="0.6", lw=0.8)
        hi = self.start_kt
        self.roadmaps = _roadmap_signature(sim)
        for (label, ys, vals), color in zip(roadmap_lines(sim, lang), ("tab:green", "tab:purple", "tab:olive")):
            ax.plot(ys, vals / 1e3, color=color, lw=1.5, marker="o", ms=3, label=label)
            hi = max(hi, float(vals.max()) / 1e3)
        if sim.previous is not None and len(sim.previous[0]):
            ax.plot(sim.previous[0], sim.previous[1], color="tab:gray", lw=1.2, ls="--", label=t(lang, "previous_run"))
            hi = max(hi, float(sim.previous[1].max()))
        _, y = sim.emissions_series()
        if len(y):
            hi = max(hi, float(y.max()))
        self.y_max = max(hi, 1e-9) * 1.15
        (self.line,) = ax.plot([], [], color="tab:red", lw=2.0, label=t(lang, "emissions_series"))
        (self.now,) = ax.plot([], [], "o", color="tab:red", ms=4)  # the current month
        ax.set_xlim(x0, x1)
        ax.set_ylim(0, self.y_max)
        ax.yaxis.set_major_formatter(_thousands)  # 120,000 not 120000 (the label was clipped)
        ax.set_xlabel(t(lang, "year"))
        ax.set_ylabel(t(lang, "unit_kt_per_yr"))
        ax.set_title(t(lang, "emissions_title"), fontsize=11)
        ax.legend(fontsize=8, loc="lower left")
        self.blit = Blitter(fig, [self.line, self.now])

    def valid_for(self, sim) -> bool:
        _, y = sim.emissions_series()
        return (not len(y) or float(y.max()) <= self.y_max) and _roadmap_signature(sim) == self.roadmaps

    def png(self, sim) -> bytes:
        x, y = sim.emissions_series()
        self.line.set_data(x, y)
        self.now.set_data(x[-1:], y[-1:])
        return self.blit.png()


class AdoptionChart:
    """Share of the firms each measure applies to that have adopted it, % (one line per
    measure that applies to some firm). Lines are labelled directly: each measure's name sits
    in the right margin at the height of its line's current value (moved apart just enough not
    to overlap), in the line's colour - no legend of 14 similar colours to decode."""

    LABEL_GAP = 0.062  # the smallest vertical distance between two labels, share of the axis

    def __init__(self, sim, lang: str, dpi: int = DPI):
        m = sim.model
        cat = m.catalogue
        fig, ax = new_figure(6.4, 3.6, left=0.1, right=0.58, top=0.91, dpi=dpi)
        cols = _distinct_styles(cat.k)
        self.lines, self.labels = {}, {}
        for k, mname in enumerate(cat.names):
            if m.applicable_count[k] == 0:
                continue
            color, ls = cols[k]
            (self.lines[mname],) = ax.plot([], [], color=color, ls=ls, lw=1.6)
            self.labels[mname] = ax.text(1.02, 0.0, name(lang, "measure", mname, cat.labels[k]), color=color,
                                         fontsize=7, va="center", transform=ax.transAxes, clip_on=False)
        ax.set_xlim(m.start_year, m.end_year + 1)
        ax.set_ylim(0, 100)
        ax.set_xlabel(t(lang, "year"))
        ax.set_ylabel(t(lang, "adoption_axis"))
        ax.set_title(t(lang, "adoption_title"), fontsize=11, loc="left")
        self.blit = Blitter(fig, list(self.lines.values()) + list(self.labels.values()))

    def valid_for(self, sim) -> bool:
        return True

    def png(self, sim) -> bytes:
        m = sim.model
        n = m.month + 1
        x = _months_x(m, n)
        now = {}
        for mname, line in self.lines.items():
            y = m.series[f"adopted_share_{mname}"][:n] * 100.0 if n else np.zeros(0)
            line.set_data(x, y)
            now[mname] = float(y[-1]) if len(y) else 0.0
        for mname, pos in label_positions(now, self.LABEL_GAP).items():
            self.labels[mname].set_y(pos)
        return self.blit.png()


def label_positions(values_pct: dict[str, float], gap: float) -> dict[str, float]:
    """Heights (share of the axis, 0-1) of line labels: each at its value, moved apart by at
    least ``gap``, in the same order as the values, kept inside the axis where possible."""
    order = sorted(values_pct, key=lambda k: (values_pct[k], k))
    pos = [min(max(values_pct[k] / 100.0, 0.0), 1.0) for k in order]
    for i in range(1, len(pos)):  # push up
        pos[i] = max(pos[i], pos[i - 1] + gap)
    top = max(1.0, gap * (len(pos) - 1))
    if pos and pos[-1] > top:  # then down from the top, if the pile ran over
        pos[-1] = top
        for i in range(len(pos) - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - gap)
    return dict(zip(order, pos))


def _distinct_styles(n: int) -> list[tuple[object, str]]:
    """(colour, line style) pairs: ten clearly different colours, then the same colours dashed."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return [(cmap(i % 10), "-" if i < 10 else "--") for i in range(n)]


def _thousands_fmt(v, _pos) -> str:
    return f"{v:,.0f}"


def _make_thousands():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(_thousands_fmt)


_thousands = _make_thousands()


def _make_plain():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:g}")


_plain = _make_plain()


def spending_table(model) -> list[tuple[str, float, float | None]]:
    """(instrument, spent USD, budget USD or None) of every instrument with money; the green
    loan shows the amount lent against its credit line."""
    gov = model.gov
    rows = []
    budgeted = gov.budgeted_instruments()
    for key, spent in gov.spending_usd().items():
        inst = budgeted.get(key)
        if key == "green_loan":
            gl = model.instruments["green_loan"]
            if gl.enabled or gl.lent_usd > 0:
                rows.append((key, float(gl.lent_usd), float(gl.budget_usd)))
            continue
        if not getattr(inst, "enabled", True) and spent == 0:
            continue
        budget = float(inst.budget_usd) if inst is not None and np.isfinite(inst.budget_usd) else None
        rows.append((key, float(spent), budget))
    return rows


class SpendingChart:
    """Cumulative public spending by instrument (million USD) against each budget. Budgets
    and the axis are the static background; spent bars and their labels are redrawn."""

    def __init__(self, sim, lang: str, dpi: int = DPI):
        rows = spending_table(sim.model)
        self.keys = [r[0] for r in rows]
        self.budgets_usd = [r[2] for r in rows]  # a workshop's government player may move them
        fig, ax = new_figure(6.4, 1.2 + 0.42 * max(len(rows), 2), left=0.27, bottom=0.25, top=0.86, dpi=dpi)
        self.lo = 0.0
        self.bars, self.labels, self.x_max = [], [], np.inf
        if not rows:
            ax.text(0.5, 0.5, t(lang, "no_spending"), ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            self.blit = Blitter(fig, [])
            return
        ys = np.arange(len(rows))[::-1]
        spent = np.array([r[1] for r in rows]) / 1e6
        self.budget = budget = np.array([np.nan if r[2] is None else r[2] for r in rows]) / 1e6
        self.x_max = float(np.nanmax(np.r_[spent * 1.5, budget, 1e-3])) * 1.35
        positive = budget[np.isfinite(budget) & (budget > 0)]
        if len(positive) and positive.max() / positive.min() >= LOG_AXIS_RATIO:
            self.lo = float(positive.min()) / 10.0  # a log axis: every budget readable
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(_plain)  # 0.1, 1, 10 (not powers of ten)
            self.x_max *= 2.0  # room for the value labels on a log axis
        lo = self.lo
        ax.barh(ys, np.maximum(np.nan_to_num(budget) - lo, 0), left=lo, color="none", edgecolor="0.4", hatch="//",
                lw=0.8, label=t(lang, "budget"))
        self.bars = list(ax.barh(ys, np.maximum(spent - lo, 0), left=lo, height=0.5, color="tab:blue", label=t(lang, "spent")))
        self.labels = [ax.text(max(lo, 0.0), yy, "", va="center", fontsize=7) for yy in ys]
        ax.set_yticks(ys, [name(lang, "instrument", k) for k in self.keys], fontsize=8)
        ax.set_xlabel(t(lang, "unit_musd") + (" " + t(lang, "log_axis") if lo > 0 else ""))
        ax.set_xlim(lo if lo > 0 else 0, self.x_max)
        ax.set_title(t(lang, "spending_title"), fontsize=11)
        ax.legend(fontsize=7, loc="lower right")
        if "green_loan" in self.keys:
            fig.text(0.01, 0.01, t(lang, "green_loan_note"), fontsize=7, color="0.35")
        self.blit = Blitter(fig, self.bars + self.labels)

    def valid_for(self, sim) -> bool:
        rows = spending_table(sim.model)
        return ([r[0] for r in rows] == self.keys and [r[2] for r in rows] == self.budgets_usd
                and all(r[1] / 1e6 <= self.x_max / 1.35 for r in rows))

    def png(self, sim) -> bytes:
        for (key, spent, _), bar, label, b in zip(spending_table(sim.model), self.bars, self.labels,
                                                  getattr(self, "budget", [])):
            s = spent / 1e6
            bar.set_width(max(s - self.lo, 0.0))
            label.set_x(max(s, self.lo))
            label.set_text("  " + f"{s:,.2f}" + ("" if np.isnan(b) else f" / {b:,.2f}"))
        return self.blit.png()


def describe(sim, kind: str, lang: str) -> str:
    """The chart's numbers in words: its text alternative (``alt``) for screen readers and
    for whoever cannot see the projector (call under ``sim.lock``)."""
    from .i18n import date

    m = sim.model
    n = m.month + 1
    if kind == "emissions":
        _, y = sim.emissions_series()
        start = float(y[0]) if len(y) else float(m.total_scope1 + m.total_scope2) / 1e3
        now = float(y[-1]) if len(y) else start
        when = date(lang, n - 1, m.start_year) if n else str(m.start_year)
        return t(lang, "alt_emissions", now=f"{now:,.1f}", when=when, start=f"{start:,.1f}")
    if kind == "adoption":
        cat = m.catalogue
        shares = [(float(m.series[f"adopted_share_{k}"][n - 1]) * 100.0 if n else 0.0, name(lang, "measure", k, cat.labels[i]))
                  for i, k in enumerate(cat.names) if m.applicable_count[i] > 0]
        shares.sort(key=lambda p: -p[0])
        return t(lang, "alt_adoption", items="; ".join(f"{label} {v:.0f} %" for v, label in shares))
    rows = spending_table(m)
    items = "; ".join(f"{name(lang, 'instrument', k)} {s / 1e6:,.2f}" + ("" if b is None else f" / {b / 1e6:,.2f}")
                      for k, s, b in rows)
    return t(lang, "alt_spending", items=items or t(lang, "no_spending"))


CHARTS = {"emissions": EmissionsChart, "adoption": AdoptionChart, "spending": SpendingChart}


class Drawers:
    """Chart and network drawers, shared by the simulations they fit.

    A drawer's static part (axes, reference lines, budgets, layout) depends only on the
    settings, the language and the previous run shown; every page opens with the same
    settings, so pages share drawers and only the data artists are per call. Each drawer
    has a lock: one drawing at a time."""

    def __init__(self, size: int = 96):
        self.lock = threading.Lock()
        self.items: "OrderedDict[tuple, tuple[object, threading.Lock]]" = OrderedDict()
        self.size = size

    def get(self, key: tuple, make, valid) -> tuple[object, threading.Lock]:
        with self.lock:
            entry = self.items.get(key)
            if entry is not None:
                self.items.move_to_end(key)
        if entry is None or not valid(entry[0]):
            entry = (make(), threading.Lock())
            with self.lock:
                self.items[key] = entry
                if len(self.items) > self.size:
                    self.items.popitem(last=False)
        return entry


DRAWERS = Drawers()


def sim_key(sim) -> tuple:
    """What a drawer's static part depends on, besides kind and language."""
    prev = None if sim.previous is None else hash(sim.previous[1].tobytes())
    return (tuple(sim.settings.overrides()), prev)


def render(sim, kind: str, lang: str, dpi: int = DPI) -> bytes:
    """PNG of chart ``kind`` for the simulation's current state (call under ``sim.lock``);
    ``dpi=PRESENTER_DPI`` for the presenter view."""
    chart, lock = DRAWERS.get(("chart", kind, lang, dpi) + sim_key(sim), lambda: CHARTS[kind](sim, lang, dpi),
                              lambda c: c.valid_for(sim))
    with lock:
        return chart.png(sim)
