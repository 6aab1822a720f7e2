"""Signing dates read off the rendered signature line by lexicon-constrained CTC decoding.

The scorer is checked against brute-force enumeration of alignments; the reader against signature
lines drawn here (printed dates, an empty line) and against real handwritten MOA dates from
../shared/fixtures (skipped without them).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ice_tracker.fileio import read_dict_csv
from ice_tracker.moa import run_moa
from ice_tracker.moa.handwriting import DateReader, Lexicon, SpellingTrie, ctc_scores, find_date_reader, read_party_dates
from ice_tracker.moa.handwriting import spellings, trie_ctc_scores
from ice_tracker.moa.words import Word
from tests.conftest import shared_fixture_path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def brute_force(logp: np.ndarray, label: str, index: dict[str, int], penalty: float) -> float:
    """Sum over every (start, end) segment and every CTC path in it that spells `label`."""
    frames, symbols = logp.shape
    garbage = np.maximum(logp[:, 0], logp.max(axis=1) - penalty)
    target = [index[c] for c in label]
    terms = []
    for start in range(frames):
        for end in range(start, frames):
            outside = garbage[:start].sum() + garbage[end + 1 :].sum()
            for path in itertools.product(range(symbols), repeat=end - start + 1):
                collapsed = [s for i, s in enumerate(path) if s != 0 and (i == 0 or s != path[i - 1])]
                if collapsed == target:
                    terms.append(outside + sum(logp[start + i, s] for i, s in enumerate(path)))
    return float(np.logaddexp.reduce(terms)) if terms else -math.inf


def test_ctc_scores_equal_brute_force_enumeration() -> None:
    rng = np.random.default_rng(7)
    index = {"1": 1, "/": 2}
    for frames in (3, 5, 6):
        raw = rng.random((frames, 3))
        logp = np.log(raw / raw.sum(axis=1, keepdims=True))
        labels = ["11", "1/", "/1"]
        got = ctc_scores(logp, labels, index, penalty=3.0)
        want = [brute_force(logp, label, index, 3.0) for label in labels]
        assert np.allclose(got, want), (frames, got, want)


def test_trie_scores_are_the_per_length_scores_bit_for_bit() -> None:
    """The prefix-tree pass must give exactly the numbers of `ctc_scores` (same decisions, same ties)."""
    rng = np.random.default_rng(11)
    index = {c: i + 1 for i, c in enumerate(sorted(set("0123456789/-. ,MayJuneMAYJUNE")))}
    labels = sorted({text for day in (dt.date(2020, 5, 8), dt.date(2020, 6, 11), dt.date(2020, 6, 1)) for text in spellings(day)
                     if all(c in index for c in text)})
    trie = SpellingTrie(labels, index)
    assert len(trie.parent) < sum(len(label) for label in labels)  # prefixes are shared
    for frames in (4, 30):
        raw = rng.random((frames, len(index) + 1)) ** 6
        logp = np.log(raw / raw.sum(axis=1, keepdims=True))
        got = dict(zip(labels, trie_ctc_scores(logp, trie, 3.0)))
        for length in {len(label) for label in labels}:
            same_length = [label for label in labels if len(label) == length]
            want = ctc_scores(logp, same_length, index, 3.0)
            assert [got[label] for label in same_length] == list(want), (frames, length)


def test_the_lexicon_keeps_every_writable_spelling_once() -> None:
    index = {c: i + 1 for i, c in enumerate("0123456789/-.")}
    lexicon = Lexicon.of(dt.date(2020, 5, 8), dt.date(2020, 5, 9), index)
    numeric = {t for day in (dt.date(2020, 5, 8), dt.date(2020, 5, 9)) for t in spellings(day) if t[0].isdigit()}
    assert sorted(t for texts in lexicon.by_length for t in texts) == sorted(numeric) == sorted(lexicon.trie.labels)
    assert lexicon.spelled["5/8/20"] == dt.date(2020, 5, 8)


def test_spellings_cover_numeric_and_month_name_forms() -> None:
    forms = spellings(dt.date(2020, 5, 8))
    for expected in ("5/8/2020", "05-08-20", "5.8.20", "MAY 8 2020", "May 8, 2020", "May 08, 2020"):
        assert expected in forms
    assert "8/5/2020" not in forms  # month first, as on US forms


def reader_or_skip() -> DateReader:
    reader = find_date_reader()
    if reader is None:
        pytest.skip("rapidocr_onnxruntime is not installed (requirements.txt installs it)")
    return reader


def signature_page(left: str, right: str) -> Image.Image:
    """A 200-dpi signature block: "Date:" and a written value in each column."""
    image = Image.new("RGB", (1800, 500), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 40) if FONT.exists() else ImageFont.load_default(size=40)
    for x, value in ((150, left), (1000, right)):
        draw.text((x, 200), "Date:", fill="black", font=font)
        draw.text((x + 130, 196), value, fill="black", font=font)
        draw.line((x + 120, 250, x + 650, 250), fill="black", width=3)
    return image


def test_printed_dates_on_both_lines_are_read_and_kept() -> None:
    reader = reader_or_skip()
    image = signature_page("03/14/2025", "March 20, 2025")
    window = (dt.date(2024, 4, 1), dt.date(2025, 5, 5))
    readings = read_party_dates(reader, image, 200 / 72, [], lea_left=True, window=window)
    assert readings["lea"].date == "2025-03-14" and readings["lea"].accepted
    assert readings["ice"].date == "2025-03-20" and readings["ice"].accepted
    swapped = read_party_dates(reader, image, 200 / 72, [], lea_left=False, window=window)
    assert swapped["ice"].date == "2025-03-14" and swapped["lea"].date == "2025-03-20"


def test_labels_sought_in_the_signature_block_read_as_on_the_whole_page() -> None:
    """Without "Date:" words the labels are found by searching only the block's rows: the same
    dates, kept the same way (the detector sees less of the page, so scores move a little)."""
    reader = reader_or_skip()
    block = signature_page("03/14/2025", "March 20, 2025")
    page = Image.new("RGB", (1800, 1600), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 34) if FONT.exists() else ImageFont.load_default(size=34)
    for row in range(4):  # body text above the block, read only when the whole page is read
        draw.text((150, 150 + 70 * row), "The parties agree to the terms of this agreement.", fill="black", font=font)
    page.paste(block, (0, 900))
    scale = 200 / 72
    words = [Word("Signature", 150 / scale, 400 / scale, 1000 / scale, 1040 / scale)]  # the block, no "Date" word
    window = (dt.date(2024, 4, 1), dt.date(2025, 5, 5))
    in_block = read_party_dates(reader, page, scale, words, lea_left=True, window=window)
    whole_page = read_party_dates(reader, page, scale, [], lea_left=True, window=window)
    assert {p: (r.date, r.accepted) for p, r in in_block.items()} == {p: (r.date, r.accepted) for p, r in whole_page.items()}
    assert all(abs(in_block[p].score - whole_page[p].score) < 2.0 for p in in_block)
    assert in_block["lea"].date == "2025-03-14" and in_block["ice"].date == "2025-03-20"
    assert len(reader.boxes(page, within=(900, 1300))) < len(reader.boxes(page))


def test_date_lines_found_in_a_band_match_the_whole_page() -> None:
    """The detector searches only a band of rows around the "Date:" labels: the lines it finds
    there are the whole page's lines, to within a few pixels."""
    reader = reader_or_skip()
    block = signature_page("03/14/2025", "March 20, 2025")
    page = Image.new("RGB", (1800, 2400), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 34) if FONT.exists() else ImageFont.load_default(size=34)
    for row in range(12):  # body text far above the labels: outside the band
        draw.text((150, 150 + 70 * row), "The parties agree to the terms of this agreement.", fill="black", font=font)
    page.paste(block, (0, 1500))
    labels = [b for b in reader.boxes(page) if b.text.startswith("Date")]
    assert len(labels) == 2
    in_band = reader.boxes(page, near=labels)
    whole = [b for b in reader.boxes(page) if any(b.overlaps_line(label) for label in labels)]
    assert len(in_band) == len(whole) >= 2
    for mine, theirs in zip(sorted(in_band, key=lambda b: b.x0), sorted(whole, key=lambda b: b.x0), strict=True):
        assert max(abs(mine.x0 - theirs.x0), abs(mine.x1 - theirs.x1), abs(mine.top - theirs.top), abs(mine.bottom - theirs.bottom)) <= 4
    assert all(b.top > 1300 for b in in_band)


def test_an_empty_date_line_gives_no_date() -> None:
    reader = reader_or_skip()
    image = signature_page("", "")
    readings = read_party_dates(reader, image, 200 / 72, [], lea_left=True, window=(dt.date(2024, 4, 1), dt.date(2025, 5, 5)))
    assert not any(r.accepted for r in readings.values())


def test_a_date_outside_the_window_is_not_forced_into_it() -> None:
    reader = reader_or_skip()
    image = signature_page("03/14/2025", "")
    readings = read_party_dates(reader, image, 200 / 72, [], lea_left=True, window=(dt.date(2019, 1, 1), dt.date(2019, 12, 31)))
    assert not any(r.accepted for r in readings.values())


def test_the_lea_date_is_not_sought_after_ices() -> None:
    reader = reader_or_skip()
    image = signature_page("03/14/2025", "March 20, 2025")
    window = (dt.date(2024, 4, 1), dt.date(2025, 5, 5))
    bounded = read_party_dates(reader, image, 200 / 72, [], lea_left=True, window=window, lea_until=dt.date(2025, 3, 20))
    assert bounded["lea"].date == "2025-03-14" and bounded["lea"].accepted
    impossible = read_party_dates(reader, image, 200 / 72, [], lea_left=True, window=window, lea_until=dt.date(2025, 3, 10))
    assert "lea" not in impossible or (impossible["lea"].date <= "2025-03-10" and not impossible["lea"].accepted)
    assert impossible["ice"].date == "2025-03-20"


# Text-layer MOAs whose LEA date is written by hand (tests/data/moa_labels.md says how each was read).
HANDWRITTEN = {
    "287g_JEM_Knox_6-8-2020.pdf": "2020-05-08",  # "MAY 8 2020", blue pen
    "287gWSO_SuwanneeCoFl2019-10-15.pdf": "2019-06-11",  # "6-11-19"
    "HamiltonCoIN_JEM_MOA_03.03.2025.pdf": "",  # "2/24/2025": not clear enough, must stay blank
}


def test_real_handwritten_dates_are_read_or_left_blank_never_wrong(tmp_path: Path) -> None:
    reader_or_skip()
    root = shared_fixture_path("ice287g", "agreements")
    pdfs = {p.name: p for p in root.rglob("*.pdf") if p.name in HANDWRITTEN}
    for source in pdfs.values():
        link = tmp_path / "data" / source.relative_to(source.parents[4])
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source)
    first = run_moa(tmp_path / "data", tmp_path / "out", tesseract="/nonexistent/tesseract", handwriting=False)
    rows = read_dict_csv(tmp_path / "out" / "data" / "moa_metadata.csv")
    assert first["handwriting"] == "unavailable"
    assert {r["handwriting"] for r in rows} == {"unavailable"} and all(r["lea_signed"] == "" for r in rows)

    again = run_moa(tmp_path / "data", tmp_path / "out", tesseract="/nonexistent/tesseract")
    assert again["processed"] == len(HANDWRITTEN)  # rows left unread are retried once the reader is there
    rows = read_dict_csv(tmp_path / "out" / "data" / "moa_metadata.csv")
    got = {Path(r["paths"]).name: r for r in rows}
    for name, want in HANDWRITTEN.items():
        assert got[name]["lea_signed"] == want, name
        assert got[name]["lea_signed_source"] == ("handwriting" if want else "")
        assert got[name]["handwriting"] == ("used" if want else "unread")
        assert (float(got[name]["lea_signed_margin"]) >= 1.5) if want else got[name]["lea_signed_margin"] == ""
