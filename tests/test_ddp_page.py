"""DDP page parsing on miniatures of the real page structure (Quarto callout + reactable widgets)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ice_tracker.sources.ddp.history import links_fingerprint, release_links
from ice_tracker.sources.ddp.page import classify_url, parse_page, parse_through, table_from_text

PAGE = "https://deportationdata.org/data/ice.html"
STATIC = "https://ucla.box.com/shared/static/{}.xlsx"
SHARED = "https://ucla.app.box.com/index.php?rm=box_download_shared_file&shared_name=9d8qnnduhus4bd5mwqt7l95kz34fic2v&file_id=f_{}"
MEDIA = "https://media.githubusercontent.com/media/deportationdata/ice/main/data/{}"


def widget(columns: dict[str, list[object]]) -> str:
    """A reactable htmlwidget as Quarto renders it: rows as JSON, `/` escaped as in R's output."""
    body = {"x": {"tag": {"name": "Reactable", "attribs": {"data": columns, "columns": [
        {"id": name, "name": name, "cell": ["<div><i class='fas fa-check'></i></div>"]} for name in columns]}}}}
    return ('<div class="reactable html-widget" id="w"></div><script type="application/json" data-for="w">'
            + json.dumps(body).replace("/", "\\/") + "</script>")


def real_layout(sentence: str, latest: str, zip_url: str = "https://ucla.box.com/shared/static/ykshdckt73y27izgranbn042muguccb7.zip") -> str:
    arrests = STATIC.format("x1ekojary0k7ffmr6lg1a492koh28erw")
    return f"""<html><body><nav id="TOC"><h2 id="toc-title">On this page</h2><a href="#arrests">Arrests</a></nav>
<main><p>ICE collects data on every person it encounters.</p>
<div class="callout callout-style-simple callout-note callout-titled"><div class="callout-header">Latest ICE data release</div>
<div class="callout-body-container callout-body"><p>{sentence} We are actively seeking ongoing updates.</p>
<div class="cell">{latest}</div>
<p><a href="{zip_url}">Download the complete latest release as a ZIP file</a> (430 MB)</p></div></div>
<section id="arrests"><h2>Arrests</h2><p>Every arrest.</p>
{widget({"Start": ["Sep. 2023"], "End": ["Early Jun. 2025"], "Download": [f"<a href='{arrests}'>xlsx</a> (32 MB)"]})}
<details><summary>Show past datasets</summary>
{widget({"Start": ["Mid Nov. 2023", "Oct. 1, 2016"], "Download": [f"<a href='{SHARED.format(1836554372496)}'>xlsx</a> (21 MB)",
         f"<a href='{SHARED.format(1836542152676)}'>xlsx</a> (53 MB)"]})}
</details></section>
<section id="detentions"><h2>Detentions</h2>
{widget({"Start": ["Sep. 2023"], "Cleaned": [[[MEDIA.format("detentions-latest.parquet"), "40MB", "parquet"],
                                             [MEDIA.format("detentions-latest.dta"), "140MB", "dta"]]]})}
</section>
<p>Questions? <a href="mailto:data@example.org">Write to us</a>, or read the <a href="/docs/ice.html">codebook</a>.</p>
</main></body></html>"""


def latest_widget() -> str:
    return widget({
        "Type": ["Arrests", "Detainers", "Detentions", "Removals"],
        "Start": ["Sep. 2023"] * 4, "End": ["Early Jun. 2025"] * 4, "Records": ["249K", "306K", "1.17M", "106K"],
        "Source": ["<a href='https://www.ice.gov'>ICE</a>"] * 4,
        "Download": [f"<a href='{STATIC.format('x1ekojary0k7ffmr6lg1a492koh28erw')}'>xlsx</a> (32 MB)",
                     f"<a href='{SHARED.format(1922081034353)}'>xlsx</a> (100 MB)",
                     f"<a href='{STATIC.format('xvpjjqjhv14en0dsri70g4caltlhoj5p')}'>xlsx</a> (203 MB)",
                     f"<a href='{STATIC.format('li1sep40gui5dj09izhh8kzr4bajqyon')}'>xlsx</a> (25 MB)"],
    })


def test_reactable_page_links_tables_and_latest_release() -> None:
    scan = parse_page(real_layout("The most recent release of data covers ICE enforcement actions through "
                                  "March 10, 2026.", latest_widget()), PAGE)
    assert scan.sentence == "The most recent release of data covers ICE enforcement actions through March 10, 2026."
    assert scan.through == date(2026, 3, 10)
    by_url = {link.url: link for link in scan.links}
    latest = {link.table: link for link in scan.links if link.latest}
    assert set(latest) == {"arrests", "detainers", "detentions", "removals", "all"}
    assert latest["detainers"].url == SHARED.format(1922081034353) and latest["detainers"].fmt == "xlsx"
    assert latest["all"].fmt == "zip" and all(link.kind == "raw" for link in latest.values())
    # The arrests link also sits in the Arrests section: one entry, still latest.
    assert by_url[STATIC.format("x1ekojary0k7ffmr6lg1a492koh28erw")].latest
    past = by_url[SHARED.format(1836542152676)]
    assert (past.table, past.latest, past.kind) == ("arrests", False, "raw")  # labelled from its section
    processed = by_url[MEDIA.format("detentions-latest.parquet")]
    assert (processed.kind, processed.table, processed.fmt, processed.latest) == ("processed", "detentions", "parquet", True)
    assert MEDIA.format("detentions-latest.dta") in by_url
    assert not any("ice.gov" in url or "mailto" in url or "docs" in url for url in by_url)


def test_plain_html_table_with_raw_and_processed_columns() -> None:
    rows = "".join(
        f"<tr><td>{kind}</td><td>Sep. 2023</td><td>Mar. 10, 2026</td><td>1M</td>"
        f"<td><a href='{raw}'>xlsx</a> (9 MB)</td><td><a href='{MEDIA.format(proc)}'>parquet</a></td></tr>"
        for kind, raw, proc in [("Detention stints", SHARED.format(1), "detention-stints-latest.parquet"),
                                ("Detention stays", SHARED.format(2), "detention-stays-latest.parquet")])
    table = (f"<table><thead><tr><th>Type</th><th>Start</th><th>End</th><th>Records</th><th>Raw</th>"
             f"<th>Processed</th></tr></thead><tbody>{rows}</tbody></table>")
    scan = parse_page(real_layout("The most recent release of data covers ICE activities through late June 2025.", table), PAGE)
    assert scan.through is None and "late June 2025" in scan.sentence
    labels = {link.url: link.table for link in scan.links if link.latest}
    assert labels[SHARED.format(1)] == "stints" and labels[SHARED.format(2)] == "stays"
    assert labels[MEDIA.format("detention-stints-latest.parquet")] == "stints"
    assert labels[MEDIA.format("detention-stays-latest.parquet")] == "stays"


def test_fingerprint_follows_the_link_set_not_the_labels() -> None:
    html = real_layout("The most recent release of data is from June 2025.", latest_widget())
    first = release_links([parse_page(html, PAGE)])
    relabelled = release_links([parse_page(html.replace('"Detainers"', '"Holds"'), PAGE)])
    assert links_fingerprint(first) == links_fingerprint(relabelled)
    moved = release_links([parse_page(html.replace("1922081034353", "1922081034354"), PAGE)])
    assert links_fingerprint(moved) != links_fingerprint(first)


def test_page_without_a_latest_block_uses_type_tables_only() -> None:
    html = f"<html><body><h2>Arrests</h2>{widget({'Download': [f'<a href={STATIC.format(chr(97) * 32)}>xlsx</a>']})}</body></html>"
    [link] = parse_page(html, PAGE).links
    assert link.table == "arrests" and not link.latest


@pytest.mark.parametrize("sentence, expected", [
    ("The most recent release of data covers ICE enforcement actions through March 10, 2026.", date(2026, 3, 10)),
    ("The most recent release of data covers ICE enforcement actions through Oct. 15, 2025.", date(2025, 10, 15)),
    ("The most recent release covers actions through Sept. 30, 2025.", date(2025, 9, 30)),
    ("… through 2026-03-10.", date(2026, 3, 10)),
    ("… through 3/10/2026.", date(2026, 3, 10)),
    ("… through early March 2026.", None),
    ("The most recent release of data is from June 2025.", None),
    ("… through February 30, 2026.", None),
])
def test_through_date(sentence: str, expected: date | None) -> None:
    assert parse_through(sentence) == expected


@pytest.mark.parametrize("url, kind", [
    ("https://ucla.box.com/shared/static/03884yy0d04c74vi63fs1htzel2zfj1u.xlsx", "raw"),
    ("https://ucla.box.com/shared/static/03884yy0d04c74vi63fs1htzel2zfj1u", "raw"),
    ("https://ucla.app.box.com/index.php?rm=box_download_shared_file&shared_name=x&file_id=f_1922078517539", "raw"),
    ("https://ucla.app.box.com/index.php?rm=preview&shared_name=x", ""),
    ("https://ucla.box.com/s/abcdef", ""),
    ("https://media.githubusercontent.com/media/deportationdata/ice/main/data/arrests-latest.parquet", "processed"),
    ("https://www.ice.gov/doclib/foia/thirdPartyRequests/2023-ICFO-42034.zip", ""),
    ("mailto:data@example.org", ""),
])
def test_link_forms(url: str, kind: str) -> None:
    assert classify_url(url) == kind


def test_table_labels_prefer_specific_tables() -> None:
    assert table_from_text("Detention stints")[0] == "stints"
    assert table_from_text("", "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx")[0] == "detentions"
    assert table_from_text("Removals (deportations)")[0] == "removals"
    assert table_from_text("Risk classification assessments")[0] == "risk_assessments"
    assert table_from_text("Download the complete latest release as a ZIP file")[0] == "all"
    assert table_from_text("Overview", "install")[0] == ""
