"""The static dashboard: `site/index.html`, `site/assets/` (plotly.js once, app.js, style.css) and
`site/data/dashboard.js` (the data, as a script so the page works from file:// and offline).

Sections appear only when their data exists. The HTML carries the "as of" dates and the download
list, so it reads without JavaScript; the charts and the table are drawn by `assets/app.js`.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ice_tracker.fileio import atomic_write_bytes
from ice_tracker.publish import series as S
from ice_tracker.publish.inputs import Inputs
from ice_tracker.publish.shapes import label_point, state_shapes

LABEL_MIN_AREA = 600.0  # px² in the 975×610 frame: smaller states are labelled on hover only


def package_text(*parts: str) -> str:
    return resources.files("ice_tracker.publish").joinpath(*parts).read_text(encoding="utf-8")


def plotly_js() -> bytes:
    """plotly.js as shipped inside the plotly package (no CDN): identical bytes for a pinned version."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


def roster_data(roster: pd.DataFrame) -> dict[str, Any] | None:
    if roster.empty:
        return None
    lists = {}
    for name in ("participating", "pending"):
        part = roster[roster["list"] == name]
        if part.empty:
            continue
        dates = sorted(part["date"].unique())
        position = {d: i for i, d in enumerate(dates)}
        series: dict[str, dict[str, list[int]]] = {}
        for (state, model), group in part.groupby(["state", "support_type"], sort=True):
            values = [0] * len(dates)
            for d, v in zip(group["date"], group["agreements"]):
                values[position[d]] = int(v)
            series.setdefault(state, {})[model] = values
        lists[name] = {"dates": dates, "series": series}
    states = sorted({s for lst in lists.values() for s in lst["series"]} - {S.ALL})
    return {"lists": lists, "states": states, "models": list(S.MODELS)}


def map_data(summary: pd.DataFrame) -> dict[str, Any] | None:
    population = S.state_population().set_index("postal")["fips"]
    rows = summary[summary["postal"].isin(population.index)]
    if rows.empty or rows["participating_agreements"].sum() == 0:
        return None
    shapes = state_shapes()
    out_shapes = []
    for shape in shapes["states"]:
        x, y, area = label_point(shape["polygons"])
        out_shapes.append({**shape, "label": [round(x, 1), round(y, 1)] if area >= LABEL_MIN_AREA else None})
    states = [{
        "fips": population[r.postal], "state": r.state, "postal": r.postal,
        "count": int(r.participating_agreements), "agencies": int(r.participating_agencies),
        "per100k": float(r.agreements_per_100k) if r.agreements_per_100k else 0.0,
    } for r in rows.itertuples(index=False)]
    return {"shapes": {"width": shapes["width"], "height": shapes["height"], "states": out_shapes}, "states": states,
            "roster_date": summary["roster_date"].iloc[0]}


def detention_data(inputs: Inputs) -> dict[str, Any] | None:
    national = S.detention_national(inputs)
    if national is None or national.empty:
        return None
    first, last = national["date"].min(), national["date"].max()
    national_fy = []
    fy = S.fiscal_year_adp(inputs)
    for row in (fy.itertuples(index=False) if fy is not None else []):
        start, end = S.fy_bounds(row.fiscal_year)
        national_fy.append({"fy": row.fiscal_year, "adp": round(float(row.adp), 1),
                            "start": max(start, first).strftime("%Y-%m-%d"), "end": min(end, last).strftime("%Y-%m-%d"),
                            "partial": bool(row.n_provisional_days > 0 or row.n_days < (end - start).days + 1)})
    fiscal_years = sorted({S.fy_label(d) for d in (first, last)} | {r["fy"] for r in national_fy})
    fiscal_years = [f"FY{y}" for y in range(int(fiscal_years[0][2:]), int(fiscal_years[-1][2:]) + 1)]
    names, states = {}, {}
    if inputs.facilities is not None:
        names = dict(zip(inputs.facilities["detention_facility_code"], inputs.facilities["detention_facility"]))
        if "state" in inputs.facilities:
            states = dict(zip(inputs.facilities["detention_facility_code"], inputs.facilities["state"]))
    latest_adp: dict[str, float] = {}
    facility_fy = S.fiscal_year_adp(inputs, "facility")
    if facility_fy is not None and not facility_fy.empty:
        latest = facility_fy[facility_fy["fiscal_year"] == facility_fy["fiscal_year"].max()]
        latest_adp = {c: round(float(a), 1) for c, a in zip(latest["detention_facility_code"], latest["adp"])}
    monthly: dict[str, dict[str, list[Any]]] = {}
    if inputs.adp_monthly is not None:
        rows = inputs.adp_monthly[inputs.adp_monthly["scope"] == "facility"]
        for code, group in rows.groupby("detention_facility_code", sort=True):
            group = group.sort_values("month")
            monthly[code] = {"months": group["month"].tolist(),
                             "adp": [round(float(v), 1) for v in pd.to_numeric(group["adp_at_midnight"], errors="coerce").fillna(0)]}
    codes = sorted(set(monthly), key=lambda c: (-latest_adp.get(c, 0.0), names.get(c, c), c))
    plot_dir = Path(inputs.data_dir) / "plots" / "detention_facility"
    facilities = [{"code": c, "name": names.get(c) or c, "state": states.get(c, ""), "adp": latest_adp.get(c, 0.0),
                   "plot": f"../plots/detention_facility/{c}.png" if (plot_dir / f"{c}.png").is_file() else ""}
                  for c in codes]
    return {
        "national": {"dates": national["date"].dt.strftime("%Y-%m-%d").tolist(),
                     "n": [int(v) for v in national["n"]], "provisional": [int(v) for v in national["provisional"]]},
        "national_fy": national_fy, "fiscal_years": fiscal_years, "facilities": facilities, "facility_monthly": monthly,
    }


TABLE_COLUMNS = [  # key, label, numeric, hidden
    ("list", "List", False, False), ("state", "State", False, False), ("county", "County", False, False),
    ("agency", "Agency", False, False), ("type", "Type", False, False), ("support_type", "Model", False, False),
    ("signed", "Signed", False, False), ("agreement", "Agreement", False, False),
    ("agency_id", "CSLLEA id", False, False), ("csllea_name", "CSLLEA name", False, False), ("ori", "ORI", False, False),
    ("agency_type", "CSLLEA type", False, False), ("population_policed", "Population policed", True, False),
    ("operating_budget", "Operating budget ($)", True, False),
    ("moa_url", "", False, True), ("moa_archived", "", False, True),
    ("addendum_url", "", False, True), ("addendum_archived", "", False, True),
]


def web_link(url: object) -> str:
    """`url` when it is an http(s) link, else "": a `javascript:` or `data:` link from a workbook cell
    must never become clickable on the dashboard (the text stays in the CSVs)."""
    text = str(url or "").strip()
    return text if urlsplit(text).scheme.lower() in ("http", "https") and urlsplit(text).netloc else ""


def table_data(inputs: Inputs) -> dict[str, Any] | None:
    rows = S.current_agreements(inputs)
    if not rows:
        return None
    out = []
    for row in rows:
        row = {**row, "agreement": "", "moa_archived": S.site_relative(row["moa_archived"]),
               "addendum_archived": S.site_relative(row["addendum_archived"]),
               "moa_url": web_link(row.get("moa_url", "")), "addendum_url": web_link(row.get("addendum_url", ""))}
        out.append([row.get(key, "") for key, *_ in TABLE_COLUMNS])
    columns = [{"key": k, "label": label, "numeric": numeric, "hidden": hidden} for k, label, numeric, hidden in TABLE_COLUMNS]
    return {"columns": columns, "rows": out}


def as_of(inputs: Inputs, roster: pd.DataFrame) -> list[tuple[str, str]]:
    """(source, 'as of' text) for each source present; dates from the data, never the clock."""
    items = []
    for name in ("participating", "pending"):
        part = inputs.roster_counts[inputs.roster_counts["list"] == name] if inputs.roster_counts is not None else None
        if part is not None and len(part):
            last = part.sort_values(["roster_date", "snapshot", "file"]).iloc[-1]
            items.append((f"ICE 287(g) {name} agencies", f"roster dated {last['roster_date']} ({last['file']}, "
                                                        f"archived in {last['snapshot']})"))
    pdf_day = S.latest_pdf_date(inputs.manifest)
    if pdf_day:
        items.append(("Agreement PDFs", f"newest archived {pdf_day}"))
    if inputs.agreements is not None:
        items.append(("Agency reference", "Census of State and Local Law Enforcement Agencies, 2018 (ICPSR 38771)"))
    if inputs.moa_metadata is not None:
        items.append(("Agreement PDF metadata", f"{len(inputs.moa_metadata):,} distinct PDFs read"))
    report = inputs.detention_report or {}
    national = S.detention_national(inputs)
    if national is not None and not national.empty:
        settled = national[~national["provisional"]]
        text = f"records through {report['extract_date']}" if report.get("extract_date") else "records"
        if len(settled):
            text += f"; last complete day {settled['date'].max():%Y-%m-%d}"
        items.append(("ICE detention (Deportation Data Project release)", text))
    items.append(("State population", "2020 Census resident population (U.S. Census Bureau)"))
    return items


def _section(anchor: str, heading: str, body: str) -> str:
    return f'<section id="{anchor}" aria-labelledby="{anchor}-h">\n<h2 id="{anchor}-h">{html.escape(heading)}</h2>\n{body}\n</section>'


def _select(ident: str, label: str) -> str:
    return f'<label for="{ident}">{html.escape(label)}<select id="{ident}"></select></label>'


SECTIONS = {
    "agreements": ("Agreements over time", """<div class="controls" role="group" aria-label="Chart options">
{list}{state}{model}
<label for="agreements-from">From<input type="date" id="agreements-from"></label>
<label for="agreements-to">To<input type="date" id="agreements-to"></label>
</div>
<figure><div id="agreements-chart" class="chart" role="img" aria-label="Agreements over time, for the options chosen above"></div>
<figcaption id="agreements-caption" aria-live="polite"></figcaption></figure>"""),
    "map": ("Agreements by state", """<div class="controls" role="group" aria-label="Map options">
<label for="map-metric">Measure<select id="map-metric"><option value="count">Participating agreements</option>
<option value="per100k">Agreements per 100,000 residents</option></select></label></div>
<figure><div id="map-chart" class="chart map" role="img" aria-label="Map of the United States shaded by agreements per state; values printed on larger states"></div>
<figcaption>Numbers on the map are the values; grey states have none. Per-state figures are in
<a href="../data/state_summary.csv">state_summary.csv</a>.</figcaption></figure>"""),
    "detention": ("ICE detention population", """<div class="controls" role="group" aria-label="Detention chart options">
{facility}{fy_from}{fy_to}
</div>
<figure><div id="detention-chart" class="chart" role="img" aria-label="Detention population over time, for the options chosen above"></div>
<figcaption id="detention-caption" aria-live="polite"></figcaption>
<p id="detention-facility-plot" hidden><a href="">Daily population chart of this facility (PNG)</a></p></figure>
<p class="small">Counts are distinct people held at midnight. Days before a release's book-out cutoff and its last day are
under-counts and are marked as provisional. Fiscal years run October to September.</p>"""),
    "table": ("Current agreements", """<div class="controls" role="search">
<label for="table-search">Search agencies, states, counties, ids<input type="search" id="table-search" placeholder="e.g. Harris County"></label>
<label for="table-list">List<select id="table-list"><option value="">Participating and pending</option>
<option value="participating">Participating</option><option value="pending">Pending</option></select></label>
</div>
<p id="table-count" aria-live="polite"></p>
<div class="table-wrap"><table id="agreements-table"><caption class="small">Newest participating and pending rosters, with links to
the archived agreement PDFs and the agency's CSLLEA 2018 record. Click a column heading to sort.</caption>
<thead><tr></tr></thead><tbody></tbody></table></div>
<noscript><p>The table needs JavaScript; the same agreements are the lines without <code>valid_to</code> in <a href="../data/roster_history/versions.csv">roster_history/versions.csv</a>.</p></noscript>"""),
}


def feeds_section(state_feeds: dict[str, str]) -> str:
    """Links to data/feeds/<ST>.atom, one per state with a feed (postal code → state name): a reporter
    follows one state."""
    items = "".join(f'<li><a href="../data/feeds/{html.escape(code)}.atom" type="application/atom+xml">'
                    f'{html.escape(name.title())} ({html.escape(code)})</a></li>' for code, name in sorted(state_feeds.items()))
    return _section("feeds", "Follow a state", "<p>One Atom feed per state: an entry for each checked change to an "
                    "agreement there (added, removed, renamed, moved, a field changed), with links to the roster and "
                    f'the agreement. All states at once: <a href="../data/changes.atom">changes.atom</a>.</p>'
                    f'<ul class="feeds">{items}</ul>')


def render_index(data: dict[str, Any], as_of_items: list[tuple[str, str]], downloads: list[dict[str, Any]],
                 state_feeds: dict[str, str] | None = None) -> str:
    """The page; `state_feeds`: postal code → state name of every data/feeds/<ST>.atom written."""
    sections, nav = [], []
    for key, (heading, body) in SECTIONS.items():
        if not data.get({"agreements": "roster"}.get(key, key)):
            continue
        body = body.format(list=_select("agreements-list", "List"), state=_select("agreements-state", "State"),
                           model=_select("agreements-model", "Program model"),
                           facility=_select("detention-facility", "Facility"),
                           fy_from=_select("detention-from", "From fiscal year"),
                           fy_to=_select("detention-to", "To fiscal year"))
        sections.append(_section(key, heading, body))
        nav.append(f'<li><a href="#{key}">{html.escape(heading)}</a></li>')
    if state_feeds:
        sections.append(feeds_section(state_feeds))
        nav.append('<li><a href="#feeds">Follow a state</a></li>')
    nav.append('<li><a href="#downloads">Downloads</a></li>')
    asof = "<dl>" + "".join(f"<dt>{html.escape(s)}</dt><dd>{html.escape(t)}</dd>" for s, t in as_of_items) + "</dl>"
    items = []
    for d in downloads:
        size = f"{d['bytes'] / 1_000_000:.1f} MB" if d["bytes"] >= 100_000 else f"{max(1, round(d['bytes'] / 1000))} kB"
        items.append(f'<li><a href="{html.escape(S.site_relative(d["path"]))}" download>{html.escape(d["path"])}</a> '
                     f'({size}): {html.escape(d["description"])}</li>')
    downloads_html = _section("downloads", "Downloads", "<p>Every published file. Columns, types and keys are described in "
                              '<a href="../datapackage.json">datapackage.json</a> (a Frictionless Data Package).</p>'
                              f'<ul class="downloads">{"".join(items)}</ul>')
    return Template(package_text("templates", "index.html")).substitute(
        nav="".join(nav), asof=_section("asof", "Data as of", f'<div class="asof">{asof}</div>'),
        sections="\n".join(sections), downloads=downloads_html)


def build_site(inputs: Inputs, roster: pd.DataFrame, summary: pd.DataFrame,
               downloads: list[dict[str, Any]], state_feeds: dict[str, str] | None = None) -> dict[str, bytes]:
    """Relative path under site/ → bytes, for every file of the dashboard (`state_feeds`: see render_index)."""
    data = {"roster": roster_data(roster), "map": map_data(summary), "detention": detention_data(inputs),
            "table": table_data(inputs)}
    data = {k: v for k, v in data.items() if v}
    script = "window.ICE_DATA = " + json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + ";\n"
    return {
        "index.html": render_index(data, as_of(inputs, roster), downloads, state_feeds).encode("utf-8"),
        "data/dashboard.js": script.encode("utf-8"),
        "assets/app.js": package_text("assets", "app.js").encode("utf-8"),
        "assets/style.css": package_text("assets", "style.css").encode("utf-8"),
        "assets/plotly.min.js": plotly_js(),
    }


def write_site(files: dict[str, bytes], site_dir: Path) -> list[str]:
    return [rel for rel, data in sorted(files.items()) if atomic_write_bytes(Path(site_dir) / rel, data)]

