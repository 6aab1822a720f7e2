"""The committed PNG plots (matplotlib, Agg), byte-identical on unchanged data.

Determinism: the Agg backend, the bundled DejaVu font, fixed size and dpi, and PNG metadata without
the "Software" (matplotlib version) entry; nothing in a figure depends on the clock. Colours come
with labels, hatching or direct annotations so every plot reads in greyscale.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402
from matplotlib.ticker import StrMethodFormatter  # noqa: E402

from ice_tracker.fileio import atomic_write_bytes, sha256_file  # noqa: E402
from ice_tracker.publish import series as S  # noqa: E402
from ice_tracker.publish.inputs import Inputs  # noqa: E402
from ice_tracker.publish.shapes import label_point, state_shapes  # noqa: E402

log = logging.getLogger(__name__)

STYLE = {
    "font.family": "DejaVu Sans", "font.size": 10, "axes.titlesize": 12, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 100, "savefig.dpi": 100,
    "svg.hashsalt": "ice-tracker", "path.simplify": True,
}
MODEL_STYLE = {  # colour-blind-safe (Okabe–Ito) colours, plus hatching so the stack reads without colour
    "Jail Enforcement Model": ("#0072B2", ""), "Task Force Model": ("#E69F00", "//"),
    "Warrant Service Officer": ("#009E73", ".."),
}
SOURCE_287G = "Source: ICE 287(g) participating/pending agencies workbooks, archived by ice-tracker"


def png_bytes(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None}, bbox_inches=None)
    plt.close(fig)
    return buffer.getvalue()


def _footer(fig: plt.Figure, text: str) -> None:
    fig.text(0.01, 0.01, text, fontsize=8, color="#444444", ha="left", va="bottom")


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values)


def _hbar(ax: plt.Axes, labels: list[str], values: list[float], fmt: str = "{:,.0f}") -> None:
    positions = range(len(labels))
    ax.barh(list(positions), values, color="#0072B2")
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    for y, value in zip(positions, values):
        ax.text(value, y, " " + fmt.format(value), va="center", fontsize=8)


def plot_increase_by_state(summary: pd.DataFrame) -> bytes | None:
    rows = summary[summary["agencies_change_since_first"] != 0].sort_values(
        ["agencies_change_since_first", "state"], ascending=[False, True])
    if rows.empty:
        return None
    first, last = summary["first_roster_date"].iloc[0], summary["roster_date"].iloc[0]
    fig, ax = plt.subplots(figsize=(9, max(4.0, 0.28 * len(rows) + 1.6)))
    _hbar(ax, [s.title() for s in rows["state"]], rows["agencies_change_since_first"].tolist(), "{:+,.0f}")
    ax.set_xlabel("Change in participating agencies")
    ax.set_title(f"Increase in participating 287(g) agencies by state, {first} to {last}")
    fig.subplots_adjust(left=0.25, right=0.95, top=0.93, bottom=0.08)
    _footer(fig, SOURCE_287G)
    return png_bytes(fig)


def plot_top_states(summary: pd.DataFrame, n: int = 20) -> bytes | None:
    rows = summary[summary["participating_agencies"] > 0].sort_values(
        ["participating_agencies", "state"], ascending=[False, True]).head(n)
    if rows.empty:
        return None
    fig, ax = plt.subplots(figsize=(9, 7))
    _hbar(ax, [s.title() for s in rows["state"]], rows["participating_agencies"].tolist())
    ax.set_xlabel("Participating agencies")
    ax.set_title(f"Top {len(rows)} states by participating 287(g) agencies, {summary['roster_date'].iloc[0]}")
    fig.subplots_adjust(left=0.22, right=0.95, top=0.93, bottom=0.1)
    _footer(fig, SOURCE_287G)
    return png_bytes(fig)


def plot_models_over_time(roster: pd.DataFrame) -> bytes | None:
    dates = sorted(roster.loc[roster["list"] == "participating", "date"].unique())
    if not dates:
        return None
    fig, ax = plt.subplots(figsize=(10, 5.5))
    x = _dates(pd.Series(dates))
    bottom = pd.Series(0, index=range(len(dates)), dtype="int64")
    for model in S.MODELS:
        values = S.totals(roster, "participating", model)["agreements"].reset_index(drop=True)
        colour, hatch = MODEL_STYLE[model]
        ax.fill_between(x, bottom, bottom + values, step="post", color=colour, alpha=0.85, hatch=hatch,
                        edgecolor="white", linewidth=0, label=f"{model} ({S.MODEL_CODES[model]}): {values.iloc[-1]:,}")
        bottom = bottom + values
    ax.step(x, bottom, where="post", color="black", linewidth=1, label=f"All models: {bottom.iloc[-1]:,}")
    ax.set_ylabel("Participating agreements")
    ax.set_title("Participating 287(g) agreements by program model")
    ax.legend(loc="upper left", frameon=False, title=f"On {dates[-1]}")
    ax.set_ylim(bottom=0)
    fig.autofmt_xdate()
    fig.subplots_adjust(left=0.09, right=0.97, top=0.92, bottom=0.16)
    _footer(fig, SOURCE_287G)
    return png_bytes(fig)


def plot_pending(roster: pd.DataFrame) -> bytes | None:
    totals = S.totals(roster, "pending")
    if totals.empty:
        return None
    fig, ax = plt.subplots(figsize=(10, 4.5))
    x = _dates(totals["date"])
    ax.step(x, totals["agreements"], where="post", color="#D55E00", linewidth=1.8, marker="o", markersize=3)
    ax.set_ylabel("Pending agreements")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Pending 287(g) agreements (latest {totals['date'].iloc[-1]}: {totals['agreements'].iloc[-1]:,})")
    fig.autofmt_xdate()
    fig.subplots_adjust(left=0.09, right=0.97, top=0.9, bottom=0.2)
    _footer(fig, SOURCE_287G)
    return png_bytes(fig)


def _map_panel(ax: plt.Axes, values: dict[str, float], title: str, fmt: str) -> None:
    shapes = state_shapes()
    top = max(values.values(), default=0) or 1
    cmap = plt.get_cmap("YlOrRd")
    patches, colours = [], []
    for state in shapes["states"]:
        value = values.get(state["fips"])
        for polygon in state["polygons"]:
            patches.append(Polygon(polygon[0], closed=True))
            colours.append("#f2f2f2" if not value else cmap(0.15 + 0.85 * value / top))
        x, y, area = label_point(state["polygons"])
        if value and area > 600:
            ax.text(x, y, fmt.format(value), ha="center", va="center", fontsize=6.5,
                    color="black", bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
    ax.add_collection(PatchCollection(patches, facecolors=colours, edgecolors="#555555", linewidths=0.4))
    ax.set_xlim(0, shapes["width"])
    ax.set_ylim(shapes["height"], 0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)


def plot_state_map(summary: pd.DataFrame) -> bytes | None:
    population = S.state_population().set_index("postal")["fips"]
    rows = summary[(summary["participating_agreements"] > 0) & summary["postal"].isin(population.index)]
    if rows.empty:
        return None
    counts = {population[p]: float(v) for p, v in zip(rows["postal"], rows["participating_agreements"])}
    rates = {population[p]: float(v) for p, v in zip(rows["postal"], rows["agreements_per_100k"]) if v}
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2))
    _map_panel(axes[0], counts, "Participating agreements", "{:,.0f}")
    _map_panel(axes[1], rates, "Agreements per 100,000 residents (2020 Census)", "{:.1f}")
    fig.suptitle(f"287(g) agreements by state, {summary['roster_date'].iloc[0]} (numbers on larger states; "
                 "grey: none)", fontsize=12)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.88, bottom=0.06, wspace=0.02)
    _footer(fig, SOURCE_287G + "; population: U.S. Census Bureau 2020; shapes: Census via us-atlas")
    return png_bytes(fig)


def _mark_fy_adp(ax: plt.Axes, fy: pd.DataFrame, dates: pd.Series, fmt: str, fontsize: int, linewidth: float) -> None:
    """Each fiscal year's ADP as a dashed line over its days (cut to the plotted dates), labelled."""
    for index, row in enumerate(fy.itertuples(index=False)):
        start, end = S.fy_bounds(row.fiscal_year)
        start, end = max(start, dates.min()), min(end, dates.max())
        ax.hlines(row.adp, start, end, colors="black", linestyles="--", linewidth=linewidth,
                  label="Fiscal-year ADP" if index == 0 else None)
        ax.text(start, row.adp, f" {row.fiscal_year}: {fmt.format(row.adp)}", va="bottom", fontsize=fontsize)


def plot_detention(national: pd.DataFrame | None, fy: pd.DataFrame | None) -> bytes | None:
    if national is None or national.empty:
        return None
    fig, ax = plt.subplots(figsize=(11, 5))
    settled = national[~national["provisional"]]
    ax.plot(national["date"], national["n"].where(~national["provisional"]), color="#0072B2", linewidth=1.2,
            label="Detained at midnight (distinct people)")
    if national["provisional"].any():
        provisional = national[national["provisional"]]
        ax.plot(provisional["date"], provisional["n"], linestyle="none", marker=".", markersize=3,
                color="#999999", label="Provisional days (under-counts)")
    if fy is not None:
        _mark_fy_adp(ax, fy, national["date"], "{:,.0f}", fontsize=8, linewidth=1.4)
    ax.set_ylabel("People in ICE detention")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylim(bottom=0)
    last = settled.iloc[-1] if len(settled) else national.iloc[-1]
    ax.set_title(f"ICE detention population at midnight, nationally (last settled day {last['date']:%Y-%m-%d}: "
                 f"{last['n']:,.0f})")
    ax.legend(loc="upper left", frameon=False)
    fig.subplots_adjust(left=0.08, right=0.97, top=0.91, bottom=0.12)
    _footer(fig, "Source: ICE detention records released to the Deportation Data Project; derived by ice-tracker")
    return png_bytes(fig)


def plot_top_facilities(top: tuple[str, pd.DataFrame] | None) -> bytes | None:
    if top is None or top[1].empty:
        return None
    fiscal_year, rows = top
    fig, ax = plt.subplots(figsize=(10, 7))
    labels = [f"{name[:42]} ({code})" for name, code in zip(rows["name"], rows["detention_facility_code"])]
    _hbar(ax, labels, rows["adp"].round(0).tolist())
    partial = rows["n_provisional_days"].max() > 0 or rows["n_days"].max() < 365
    ax.set_xlabel("Average daily population at midnight")
    ax.set_title(f"Top {len(rows)} ICE detention facilities by ADP, {fiscal_year}{' (partial year)' if partial else ''}")
    fig.subplots_adjust(left=0.42, right=0.95, top=0.93, bottom=0.1)
    _footer(fig, "Source: ICE detention records released to the Deportation Data Project; derived by ice-tracker")
    return png_bytes(fig)


def render_plots(roster: pd.DataFrame, summary: pd.DataFrame, inputs: Inputs) -> dict[str, bytes]:
    """File name → PNG bytes for every plot whose data exists."""
    makers: dict[str, Callable[[], bytes | None]] = {
        "add_agreements.png": lambda: plot_increase_by_state(summary),
        "n_agreements.png": lambda: plot_top_states(summary),
        "agreements_by_model.png": lambda: plot_models_over_time(roster),
        "pending_agreements.png": lambda: plot_pending(roster),
        "agreements_map.png": lambda: plot_state_map(summary),
        "detention_population.png": lambda: plot_detention(S.detention_national(inputs), S.fiscal_year_adp(inputs)),
        "top_facilities.png": lambda: plot_top_facilities(S.top_facilities(inputs)),
    }
    out = {}
    with plt.rc_context(STYLE):
        for name, make in makers.items():
            data = make()
            if data is not None:
                out[name] = data
    return out


FACILITY_PLOT_DIR = "detention_facility"
SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # facility codes become file names
FACILITY_DAILY = "data/detention/facility_daily_population.parquet"


def plot_facility_population(code: str, name: str, dates: pd.Series, midnight: pd.Series,
                             fy: pd.DataFrame) -> bytes:
    """One facility: people detained there at midnight, by day, with each fiscal year's ADP marked."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.plot(dates, midnight, color="#0072B2", linewidth=1.0, label="Detained at midnight (distinct people)")
    _mark_fy_adp(ax, fy, dates, "{:,.1f}", fontsize=7, linewidth=1.2)
    ax.set_ylabel("People")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.set_title(f"{name[:60]} ({code}): population at midnight, {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}",
                 fontsize=10)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.16)
    _footer(fig, "Source: ICE detention records released to the Deportation Data Project; derived by ice-tracker "
                 "(last day partial)")
    return png_bytes(fig)


FACILITY_PLOT_VERSION = "1"  # bump when the chart's drawing changes, so unchanged data is redrawn once
FACILITY_PLOT_STAMP = "SOURCES.sha256"


def facility_plot_stamp(data_dir: Path) -> str:
    """What the per-facility charts are drawn from (drawing version + sha256 of each input file)."""
    lines = [f"version {FACILITY_PLOT_VERSION}"]
    for rel in (FACILITY_DAILY, "data/detention/adp_fiscal_year.csv", "data/detention/facilities.csv"):
        path = Path(data_dir) / rel
        lines.append(f"{sha256_file(path) if path.is_file() else '-'}  {rel}")
    return "\n".join(lines) + "\n"


def render_facility_plots(inputs: Inputs) -> dict[str, bytes]:
    """`<code>.png` → bytes for every facility in the facility-day file (absent file: none)."""
    path = Path(inputs.data_dir) / FACILITY_DAILY
    if not path.is_file():
        return {}
    daily = pd.read_parquet(path, columns=["detention_facility_code", "date", "n_detained_at_midnight"])
    daily["date"] = pd.to_datetime(daily["date"])
    fy = S.fiscal_year_adp(inputs, "facility")
    fy_by_code = {code: rows for code, rows in fy.groupby("detention_facility_code")} if fy is not None else {}
    names = {}
    if inputs.facilities is not None:
        names = dict(zip(inputs.facilities["detention_facility_code"], inputs.facilities["detention_facility"]))
    out = {}
    empty = pd.DataFrame(columns=["fiscal_year", "adp"])
    with plt.rc_context(STYLE):
        for code, rows in daily.groupby("detention_facility_code", sort=True, observed=True):
            if not SAFE_CODE.fullmatch(str(code)):
                log.warning("facility code %r cannot be a file name; no plot", code)
                continue
            out[f"{code}.png"] = plot_facility_population(str(code), names.get(code) or str(code), rows["date"],
                                                          rows["n_detained_at_midnight"], fy_by_code.get(code, empty))
    return out


def write_plots(plots: dict[str, bytes], out_dir: Path) -> list[str]:
    """Write the PNGs; returns the names that changed."""
    return [name for name, data in sorted(plots.items()) if atomic_write_bytes(Path(out_dir) / name, data)]
