"""MOA text → metadata fields (model, agency, signing dates, signatories, template revision).

The rules live in `patterns.json` (one entry per MOA generation); this module only applies them.
A field that cannot be read confidently is left blank rather than guessed: a blank is visible
in the table, a wrong date is not.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ice_tracker.moa.pdftext import Page, PdfContent
from ice_tracker.moa.words import Word, lines_from_words

FLAGS = re.IGNORECASE
MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


@lru_cache(maxsize=1)
def patterns() -> dict[str, Any]:
    return json.loads(resources.files("ice_tracker.moa").joinpath("patterns.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, FLAGS)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------- dates


def make_date(year: str, month: str, day: str) -> str | None:
    rules = patterns()["dates"]
    y = int(re.sub(r"\D", "", year))
    y = y + 2000 if y < 100 else y
    m = MONTHS.get(month[:3].lower()) if month[:1].isalpha() else int(month)
    if m is None or not rules["first_year"] <= y <= rules["last_year"]:
        return None
    try:
        return dt.date(y, m, int(day)).isoformat()
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, str]]:
    """Every valid date in `text` as (position, ISO date), in order of position."""
    found: list[tuple[int, str]] = []
    for key in ("month_name", "numeric_mdy", "digital_stamp"):
        for match in rx(patterns()["dates"][key]).finditer(text):
            iso = make_date(match["year"], match["month"], match["day"])
            if iso:
                found.append((match.start(), iso))
    return sorted(found)


def despace(text: str) -> str:
    """Join letters set one by one ("F e b r u a r y 2 6 , 2 0 2 5" in 2025 WSO form fields)."""
    return re.sub(r"(?<=\b\w) (?=\w\b)", "", text)


def dates_in(text: str) -> list[tuple[int, str]]:
    """Dates of a signature column, read as printed, else with letter-spacing removed."""
    text = text.replace("_", "")
    return find_dates(text) or find_dates(despace(text))


def revision_date(text: str) -> str:
    """The template's "Revised MM/DD/YYYY" footer: the most frequent one, earliest on a tie."""
    dates = [make_date(m["year"], m["month"], m["day"]) for m in rx(patterns()["revision"]).finditer(text)]
    counts = Counter(d for d in dates if d)
    if not counts:
        return ""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


# ---------------------------------------------------------------- model


def model_from_text(text: str) -> str:
    """The first model title in the text (the header), else a generation-specific body cue."""
    rules = patterns()["model"]
    hits = [(m.start(), r["model"]) for r in rules["title"] for m in [rx(r["pattern"]).search(text)] if m]
    if hits:
        return min(hits)[1]
    for rule in rules["body"]:
        if rx(rule["pattern"]).search(text):
            return rule["model"]
    return ""


def model_from_filename(name: str) -> str:
    for rule in patterns()["model"]["filename"]:
        if rx(rule["pattern"]).search(name):
            return rule["model"]
    return ""


# ---------------------------------------------------------------- agency name


def clean_name(raw: str) -> tuple[str, str]:
    """A candidate agency name → (name, city/state suffix), stripped of template debris."""
    name = squeeze(raw.replace("’", "'"))
    name = re.sub(r"^(?:the\b\s*)", "", name, flags=FLAGS)
    name = re.sub(r"\s*\([A-Za-z.]{2,14}\)\s*$", "", name)  # trailing (ABBR)
    name = name.strip(" ,;:|'\"`‘“”._-")
    city_state = ""
    suffix = re.search(patterns()["city_state_suffix"], name)
    if suffix:
        city_state = squeeze(suffix["city_state"])
        name = name[: suffix.start()].strip(" ,")
    return name, city_state


def plausible_name(name: str) -> bool:
    rules = patterns()["lea_name"]
    return (
        3 <= len(name) <= 120
        and rx(rules["agency_keywords"]).search(name) is not None
        and rx(rules["reject"]).search(name) is None
    )


def footer_name(pages: list[Page]) -> str:
    """The agency name printed in the page footer of 2025 templates (on at least 3 pages)."""
    counts: Counter[str] = Counter()
    spelling: dict[str, Counter[str]] = {}
    for page in pages:
        seen = set()
        for line in page.text.splitlines()[-3:]:
            line = re.sub(r"\s*\d{0,3}\s*(?:Rev(?:ised)?\.?\s*[\d/ ]*)?$", "", line.strip())
            name, _ = clean_name(line)
            key = re.sub(r"[^a-z0-9]", "", name.lower())
            if plausible_name(name) and key not in seen:
                seen.add(key)
                counts[key] += 1
                spelling.setdefault(key, Counter())[name] += 1
    best = [key for key, n in counts.most_common() if n >= 3]
    return spelling[best[0]].most_common(1)[0][0] if best else ""


@dataclass
class Candidate:
    source: str
    name: str
    city_state: str = ""


def lea_name(content: PdfContent, lea_column_text: str) -> Candidate:
    """The agency as written in the parties clause; other places only when that is unreadable."""
    rules = patterns()["lea_name"]
    first_pages = squeeze(" ".join(p.text for p in content.pages[:2]))
    everything = squeeze(content.text)
    candidates: list[Candidate] = []
    for rule in rules["parties"]:
        haystack = everything if rule["name"] == "appendix_clause" else first_pages
        for match in rx(rule["pattern"]).finditer(haystack):
            name, city_state = clean_name(match["name"])
            candidates.append(Candidate(rule["name"], name, city_state))
            break
    for form_field in content.form_fields:
        if rx(rules["form_field_names"]).search(form_field.name):
            candidates.append(Candidate("form_field", *clean_name(form_field.value)))
    footer = footer_name(content.pages)
    if footer:
        candidates.append(Candidate("footer", *clean_name(footer)))
    agency = re.search(r"Agency\s*[:;.]\s*(?P<name>[^\n]+)", lea_column_text)
    if agency:
        candidates.append(Candidate("signature_agency", *clean_name(agency["name"])))
    for candidate in candidates:
        if plausible_name(candidate.name):
            return candidate
    return Candidate("", "")


# ---------------------------------------------------------------- signature block


@dataclass
class Party:
    signed: str = ""
    signed_source: str = ""
    signatory: str = ""
    text: str = ""


def signature_page(content: PdfContent) -> Page | None:
    return signature_words(content)[0]


def signature_block(content: PdfContent) -> tuple[Page | None, float, float]:
    """The page of the signature block and where on it the block's words are: their tops lie
    strictly between the two values (points). The block is below "By signing this MOA", or at the
    top of the next page when the anchor is low on its page with no "Date" line under it."""
    anchor = rx(patterns()["signature"]["anchor"])
    for index, page in enumerate(content.pages):
        if not anchor.search(squeeze(page.text)):
            continue
        start = next((w.top for w in page.words if w.text.lower() == "signing"), 0.0)
        below = [w for w in page.words if w.top > start + 2]
        low_on_page = start > page.height * 0.75
        if low_on_page and not any(w.text.lower().startswith("date") for w in below) and index + 1 < len(content.pages):
            following = content.pages[index + 1]
            return following, -math.inf, following.height * 0.6
        return page, start + 2, math.inf
    return None, 0.0, 0.0


def signature_words(content: PdfContent) -> tuple[Page | None, list[Word]]:
    """Words of the signature block: below "By signing this MOA" (or on the next page)."""
    page, above, below = signature_block(content)
    if page is None:
        return None, []
    return page, [w for w in page.words if above < w.top < below]


def signature_strip(content: PdfContent, margin: float) -> tuple[Page | None, tuple[float, float]]:
    """The signature page and the strip of it (top, bottom in points) holding the block and the
    anchor line above it, `margin` points wider each way: what a re-reading of the block needs."""
    page, above, below = signature_block(content)
    if page is None:
        return None, (0.0, 0.0)
    return page, (max(0.0, above - margin), min(page.height, below + margin))


def column_texts(page: Page, words: list[Word]) -> tuple[str, str]:
    middle = page.width / 2
    left = [w for w in words if w.centre < middle]
    right = [w for w in words if w.centre >= middle]
    return "\n".join(lines_from_words(left)), "\n".join(lines_from_words(right))


def phrase_x(words: list[Word], pattern: str) -> float | None:
    """Centre x of the first line fragment of up to 3 consecutive words matching `pattern`."""
    ordered = sorted(words, key=lambda w: (round(w.top / 4), w.x0))
    for i in range(len(ordered)):
        for n in (1, 2, 3):
            chunk = ordered[i : i + n]
            if len(chunk) == n and rx(rf"^(?:{pattern})\W*$").search(" ".join(w.text for w in chunk)):
                return chunk[0].centre
    return None


def lea_is_left(page: Page, words: list[Word], left: str, right: str) -> bool:
    """Which column is the agency's: by the "For the LEA / For ICE" headers, else by wording."""
    sig = patterns()["signature"]
    middle = page.width / 2
    lea_x = phrase_x(words, sig["lea_headers"])
    if lea_x is not None:
        return lea_x < middle
    ice_x = phrase_x(words, sig["ice_headers"])
    if ice_x is not None:
        return ice_x >= middle

    def score(text: str, markers: list[str]) -> int:
        low = text.lower()
        return sum(low.count(m.lower()) for m in markers)

    ice_left = score(left, sig["ice_markers"]) - score(left, sig["lea_markers"])
    ice_right = score(right, sig["ice_markers"]) - score(right, sig["lea_markers"])
    return ice_left <= ice_right


def strip_footers(text: str) -> str:
    return rx(patterns()["revision"]).sub(" ", text)


LABEL = re.compile(r"^(Name|Title|Date|Signature|Agency)\s*[:;.,]?", FLAGS)


def meaningful(value: str) -> bool:
    """At least one real word (3+ letters): OCR of a pen signature gives "jh", "fe Y"."""
    return re.search(r"[A-Za-z]{3}", value) is not None and not LABEL.match(value)


def rejoin_letters(line: str) -> str:
    """Undo letter-spaced fill-ins ("A c ti n g D ir e c t o r" → "Acting Director")."""
    tokens = re.sub(r"\s+-\s+", " ", line).split()
    if len(tokens) < 4 or sum(len(t) <= 3 for t in tokens) * 3 < len(tokens) * 2:
        return line
    words: list[str] = []
    for token in tokens:
        if words and token[:1].islower():
            words[-1] += token
        else:
            words.append(token)
    return " ".join(words)


def labelled(lines: list[str], label: str) -> str:
    """The value of "Label:" - on its line, or on the line just above when typed higher up."""
    for i, line in enumerate(lines):
        match = LABEL.match(line)
        if not match or match.group(1).lower() != label:
            continue
        value = line[match.end() :].strip(" -")
        if meaningful(value):
            return value
        if i and meaningful(lines[i - 1]):
            return lines[i - 1].strip(" -")
    return ""


def signatory(text: str) -> str:
    """"Name, Title" from a signature column ("Name:"/"Title:" lines, or the typed name block).

    Underscores are removed, not spaced: fill-ins typed over a blank line come out as
    "_V_e_n_t_ _C_r_a_w_f_o_r_d_", where the underscores sit between the letters.
    """
    lines = [rejoin_letters(squeeze(line.replace("_", ""))) for line in text.splitlines()]
    lines = [line for line in lines if line]
    name, title = labelled(lines, "name"), labelled(lines, "title")
    if not name:
        person = re.compile(r"^[A-Z][A-Za-z.'\-]*(?:\s+[A-Z][A-Za-z.'\-]*){1,3}$")
        bad = rx(patterns()["signature"]["not_a_name"])
        for i, line in enumerate(lines):
            if person.match(line) and not bad.search(line) and not line.isupper() and meaningful(line):
                name = line
                if not title and i + 1 < len(lines) and meaningful(lines[i + 1]):
                    title = lines[i + 1]
                break
    name = re.sub(r"[|]+", "", name).strip()
    title = re.sub(r"[|]+", "", title).strip()
    return ", ".join(part for part in (name, title) if part)


def signature_layout(content: PdfContent) -> tuple[Page | None, list[Word], bool]:
    """The signature page, the words of its signature block, and whether the LEA signs on the left."""
    page, words = signature_words(content)
    if page is None:
        return None, [], True
    left, right = column_texts(page, words)
    return page, words, lea_is_left(page, words, left, right)


def parties(content: PdfContent) -> tuple[Party, Party]:
    """(LEA, ICE) signing date and signatory from the two-column signature block."""
    page, words, lea_left = signature_layout(content)
    lea, ice = Party(), Party()
    if page is None:
        return lea, ice
    left, right = column_texts(page, words)
    lea.text, ice.text = (left, right) if lea_left else (right, left)
    for party in (lea, ice):
        dates = dates_in(strip_footers(party.text))
        if dates:
            party.signed, party.signed_source = dates[0][1], "text"
        party.signatory = signatory(party.text)
    for signature in content.signatures:
        if signature.page != page.number:
            continue
        on_left = signature.x0 < page.width / 2
        party = lea if on_left == lea_left else ice
        if not party.signed:
            party.signed, party.signed_source = signature.date, "digital_signature"
    return lea, ice


# ---------------------------------------------------------------- all fields


def extract_fields(content: PdfContent, file_names: list[str]) -> dict[str, str]:
    """Every metadata field for one PDF, with the source of the ones that have fallbacks."""
    text = content.text
    model, model_source = model_from_text(text), "text"
    if not model:
        model = next((m for m in map(model_from_filename, file_names) if m), "")
        model_source = "filename" if model else ""
    lea, ice = parties(content)
    name = lea_name(content, lea.text)
    return {
        "model": model,
        "model_source": model_source,
        "lea_name": name.name,
        "lea_name_source": name.source,
        "lea_city_state": name.city_state,
        "lea_signed": lea.signed,
        "ice_signed": ice.signed,
        "lea_signed_source": lea.signed_source,
        "ice_signed_source": ice.signed_source,
        "lea_signed_margin": "",
        "ice_signed_margin": "",
        "lea_signatory": lea.signatory,
        "ice_signatory": ice.signatory,
        "revision_date": revision_date(text),
    }
