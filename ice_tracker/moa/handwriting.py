"""Signing dates written by hand, read by checking every plausible date against a text recogniser.

About half the MOAs carry a pen-written signing date ("6-11-19", "MAY 8 2020") that Tesseract
cannot read. An unconstrained recogniser misreads such lines too ("16-4-a0ao"), but it does say
how likely every character is at every position. So instead of trusting its best guess we ask,
for every date in a plausible window (the year before the PDF was last modified) and every usual
way of writing it, how well that exact string explains the line (CTC likelihood,
lexicon-constrained decoding), and keep the best date only when it clearly beats the runner-up.
A date that is not clearly readable stays blank: a blank is visible, a wrong date is not.

The detector and recogniser are PP-OCRv4 ONNX models shipped inside the `rapidocr_onnxruntime`
wheel (nothing is downloaded at run time). Without that package the run goes on and says
`handwriting = unavailable`. One thread per model keeps the scores, and so the output, identical
from run to run. Thresholds live in `patterns.json` ("handwriting").
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import itertools
import logging
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ice_tracker.moa.fields import patterns
from ice_tracker.moa.words import Word

log = logging.getLogger(__name__)

NEG = -1e9
MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
DATE_LABEL = re.compile(r"^\W*(?:date|dale|dare|dete|oate)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Box:
    """A rectangle in page pixels, with the text the recogniser read in it (if any)."""

    x0: float
    top: float
    x1: float
    bottom: float
    text: str = ""

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    def overlaps_line(self, other: Box, share: float = 0.3) -> bool:
        overlap = min(self.bottom, other.bottom) - max(self.top, other.top)
        return overlap > share * min(self.bottom - self.top, other.bottom - other.top)


@dataclass(frozen=True)
class Reading:
    """The best date for one party, how well it fits and by how much it beats the next date."""

    date: str
    spelling: str
    score: float
    margin: float
    accepted: bool


def rules() -> dict[str, Any]:
    return patterns()["handwriting"]


def spellings(day: dt.date) -> set[str]:
    """The usual ways a date is written on a signature line (numeric and with the month's name)."""
    out: set[str] = set()
    months = {str(day.month), f"{day.month:02d}"}
    days = {str(day.day), f"{day.day:02d}"}
    years = {str(day.year), f"{day.year % 100:02d}"}
    for month, dd, year, sep in itertools.product(months, days, years, "/-."):
        out.add(f"{month}{sep}{dd}{sep}{year}")
    name = MONTH_NAMES[day.month - 1]
    for month in {name, name[:3], name.upper(), name[:3].upper()}:
        for dd in days:
            out.update({f"{month} {dd} {day.year}", f"{month} {dd}, {day.year}", f"{month}{dd}{day.year}"})
    return out


def log_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) + exp(b)), elementwise, for arrays.

    The same sum as `np.logaddexp`, written from numpy's vectorised `exp` and `log1p`: about three
    times faster (np.logaddexp calls the C library per element), and equal to it to ~1e-15. The CTC
    passes below spend most of their time here; both use this one function, so they agree bit for bit.
    """
    diff = np.subtract(a, b)
    np.abs(diff, out=diff)
    np.negative(diff, out=diff)
    np.exp(diff, out=diff)
    np.log1p(diff, out=diff)
    diff += np.maximum(a, b)
    return diff


def ctc_scores(logp: np.ndarray, labels: list[str], index: dict[str, int], penalty: float) -> np.ndarray:
    """log P(label written somewhere on the line) for labels of one length, batched.

    Frames outside the label are "free" but not for nothing: each costs its best reading minus
    `penalty`, or the blank, whichever is likelier, so unexplained ink ("Date:", a stray stroke)
    costs the same for every candidate and a candidate that leaves real characters out pays.
    The reader uses `trie_ctc_scores` (the same numbers, faster); this is its reference form.
    """
    frames, count, length = logp.shape[0], len(labels), len(labels[0])
    states = 2 * length + 1
    ext = np.zeros((count, states), dtype=np.int64)
    ext[:, 1::2] = np.array([[index[c] for c in label] for label in labels])
    garbage = np.maximum(logp[:, 0], logp.max(axis=1) - penalty)
    before = np.concatenate([[0.0], np.cumsum(garbage)])
    skip = np.zeros((count, states), dtype=bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    pad1 = np.full((count, 1), NEG)
    pad2 = np.full((count, 2), NEG)
    alpha = np.full((count, states), NEG)
    total = np.full(count, NEG)
    start = np.full((count, states), NEG)
    for t in range(frames):
        start[:, :2] = before[t]
        shifted1 = np.concatenate([pad1, alpha[:, :-1]], axis=1)
        shifted2 = np.where(skip, np.concatenate([pad2, alpha[:, :-2]], axis=1), NEG)
        alpha = log_add(log_add(alpha, shifted1), log_add(shifted2, start)) + logp[t][ext]
        ended = log_add(alpha[:, -1], alpha[:, -2]) + (before[frames] - before[t + 1])
        total = log_add(total, ended)
    return total


class SpellingTrie:
    """Candidate spellings as a prefix tree, so that `ctc_scores` over thousands of dates sharing
    prefixes ("3/1", "March 1") computes each shared prefix's CTC states once (about 2.5 times
    fewer states than scoring each spelling on its own, in one batch instead of one per length).
    """

    def __init__(self, labels: list[str], index: dict[str, int]) -> None:
        nodes: dict[str, int] = {"": 0}
        parent, symbol, depth = [0], [0], [0]
        for label in labels:
            for end in range(1, len(label) + 1):
                prefix = label[:end]
                if prefix not in nodes:
                    nodes[prefix] = len(parent)
                    parent.append(nodes[label[: end - 1]])
                    symbol.append(index[label[end - 1]])
                    depth.append(end)
        self.labels = labels
        self.parent = np.array(parent, dtype=np.int64)
        self.symbol = np.array(symbol, dtype=np.int64)
        first = np.array(depth) == 1
        self.first = first
        # a character may follow the one before it directly (skipping the blank) unless they are equal
        self.skip = (np.array(depth) >= 2) & (self.symbol != self.symbol[self.parent])
        self.ends = np.array([nodes[label] for label in labels], dtype=np.int64)


@dataclass(frozen=True)
class Lexicon:
    """Every spelling of every date in a window that the recogniser can write, by length."""

    spelled: dict[str, dt.date]
    by_length: list[list[str]]
    trie: SpellingTrie

    @classmethod
    def of(cls, first: dt.date, last: dt.date, index: dict[str, int]) -> Lexicon:
        spelled: dict[str, dt.date] = {}
        day = first
        while day <= last:
            for text in spellings(day):
                spelled.setdefault(text, day)
            day += dt.timedelta(days=1)
        by_length: dict[int, list[str]] = {}
        for text in sorted(spelled):
            if all(c in index for c in text):
                by_length.setdefault(len(text), []).append(text)
        groups = list(by_length.values())
        return cls(spelled, groups, SpellingTrie([text for texts in groups for text in texts], index))


def trie_ctc_scores(logp: np.ndarray, trie: SpellingTrie, penalty: float) -> np.ndarray:
    """`ctc_scores` for every label of `trie` at once, value for value the same numbers.

    Node n stands for the character state (C) and the blank after it (B) of every label that
    starts with node n's prefix; the root's B is the leading blank. Each state is updated from
    the same terms in the same order as in `ctc_scores`, so the floating-point results match.
    """
    frames = logp.shape[0]
    garbage = np.maximum(logp[:, 0], logp.max(axis=1) - penalty)
    before = np.concatenate([[0.0], np.cumsum(garbage)])
    count = len(trie.parent)
    chars = np.full(count, NEG)
    blanks = np.full(count, NEG)
    total = np.full(len(trie.ends), NEG)
    parent, skip, first, ends = trie.parent, trie.skip, trie.first, trie.ends
    no_start = np.full(count, NEG)
    both_neg = log_add(np.full(count, NEG), np.full(count, NEG))
    neg = np.full(1, NEG)
    for t in range(frames):
        start = np.where(first, before[t], no_start)
        skipped = np.where(skip, chars[parent], NEG)
        new_chars = log_add(log_add(chars, blanks[parent]), log_add(skipped, start)) + logp[t][trie.symbol]
        new_blanks = log_add(log_add(blanks, chars), both_neg) + logp[t][0]
        new_blanks[0] = (log_add(log_add(blanks[:1], neg), log_add(neg, before[t : t + 1])) + logp[t][0])[0]
        chars, blanks = new_chars, new_blanks
        ended = log_add(blanks[ends], chars[ends]) + (before[frames] - before[t + 1])
        total = log_add(total, ended)
    return total


def box_of(points: Any, text: str = "") -> Box:
    """The upright rectangle around a detected quadrilateral."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return Box(float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)), text)


class DateReader:
    """PP-OCRv4 detector + recogniser (from rapidocr_onnxruntime), loaded once per run."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        models = Path(importlib.util.find_spec("rapidocr_onnxruntime").origin).parent / "models"  # type: ignore[union-attr, arg-type]
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = True  # RapidOCR turns it off: ~1.5x slower on a page, same outputs

        def session(name: str) -> Any:
            return ort.InferenceSession(str(models / name), options, providers=["CPUExecutionProvider"])

        self.session = session("ch_PP-OCRv4_rec_infer.onnx")
        # RapidOCR's own sessions replaced by the same models with the memory arena on (the
        # detector's page-sized buffers are then reused, not allocated and zeroed on every page)
        self.engine.text_det.infer.session = session("ch_PP-OCRv4_det_infer.onnx")
        self.engine.text_cls.infer.session = session("ch_ppocr_mobile_v2.0_cls_infer.onnx")
        self.engine.text_rec.session.session = self.session
        charset = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.characters = ["<blank>", *charset, " "]
        self.index = {c: i for i, c in enumerate(self.characters)}
        self.version = handwriting_version()
        self.lexicons: dict[tuple[dt.date, dt.date], Lexicon] = {}

    def boxes(self, image: Image.Image, near: list[Box] | None = None, within: tuple[float, float] | None = None) -> list[Box]:
        """Text lines found on the image, with what the recogniser reads in each (lines read with
        a score under RapidOCR's `text_score` are dropped, as RapidOCR drops them); with `near`,
        the lines level with those boxes, unread (their place is all the date reader needs, and
        a pen-written date is what the recogniser scores low: it stays in the line).

        Only the rows that matter are searched and read, since the detector's cost grows with the
        area it sees and reading every line of a page is most of the reader's time:
        `near`: the lines level with these boxes (the "Date:" labels), found in a band of
        `BAND_MARGIN` pixels above and below them;
        `within`: else the lines reaching into this band of rows (the signature block, where
        the labels are looked for; of each line only its opening is read, `LABEL_READ_HEIGHTS`);
        neither: every line of the whole page. RapidOCR's own steps
        are run one by one, at the scale a full call uses, so the lines kept are found and read
        as a full call would find them (the detector pools over what it sees, so a band can
        shift a box by a pixel or two and a score a little: the fixtures' dates are unchanged,
        see bench_moa).
        """
        engine = self.engine
        array = np.array(image.convert("RGB"))
        raw_h, raw_w = array.shape[:2]
        prepared, ratio_h, ratio_w = engine.preprocess(array)
        prepared, record = engine.maybe_add_letterbox(prepared, {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}})
        rows = None
        if near:
            rows = (min(b.top for b in near) - BAND_MARGIN, max(b.bottom for b in near) + BAND_MARGIN)
        elif within is not None:
            rows = within
        if rows is not None:  # page pixels -> the prepared image's (RapidOCR: page = prepared x ratio, less padding)
            pad = record.get("padding_1", {}).get("top", 0)
            rows = (rows[0] / ratio_h + pad, rows[1] / ratio_h + pad)
        detected = self.detect(prepared, rows)
        if detected is None or len(detected) == 0:
            return []
        shown = engine._get_origin_points(detected, record, raw_h, raw_w)
        found = [box_of(points) for points in shown]
        if near is not None:
            chosen = [i for i, box in enumerate(found) if any(box.overlaps_line(b) for b in near)]
        elif within is not None:
            chosen = [i for i, box in enumerate(found) if box.bottom >= within[0] and box.top <= within[1]]
        else:
            chosen = list(range(len(found)))
        if not chosen:
            return []
        if near is not None:  # only their place is used: the labels are known, nothing needs reading
            return [box_of(shown[i]) for i in chosen]
        # only a line's opening is read: what is looked for is a "Date:" label starting it (the
        # recogniser's time grows with the width it reads)
        lines = engine.get_crop_img_list(prepared, [detected[i] for i in chosen])
        crops = [line[:, : LABEL_READ_HEIGHTS * line.shape[0]] for line in lines]
        if engine.use_cls:
            crops, _, _ = engine.text_cls(crops)
        read, _ = engine.text_rec(crops, False)
        return [box_of(shown[i], str(result[0])) for i, result in zip(chosen, read, strict=True)
                if float(result[1]) >= engine.text_score]

    def detect(self, prepared: np.ndarray, rows: tuple[float, float] | None = None) -> list[np.ndarray] | None:
        """RapidOCR's text detection (`auto_text_det`), its per-pixel normalisation done by table
        look-up: the same float32 input, without a float64 pass over the page's 9 million values.

        `rows` (top, bottom in `prepared`'s pixels): search only that band of the page, widened to
        the network's 32-pixel grid and seen at the scale the whole page would be; the boxes
        are placed on the whole page."""
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

        engine, det = self.engine, self.engine.text_det
        if prepared.dtype != np.uint8:
            return engine.auto_text_det(prepared)[0]
        height, width = prepared.shape[:2]
        steps = det.get_preprocess(max(height, width))
        top = 0
        if rows is not None and steps.limit_type == "min" and min(height, width) >= steps.limit_side_len:  # the whole page is seen unscaled
            top = max(0, int(rows[0]) // 32 * 32)
            bottom = min(height, -(-int(math.ceil(rows[1])) // 32) * 32)
            if bottom - top < 32:
                return None
            prepared = prepared[top:bottom]
            steps = DetPreProcess(32, "min", det.mean, det.std)  # unscaled, as the whole page is
        resized = steps.resize(prepared)
        if resized is None:
            return None
        table = ((np.arange(256, dtype=np.float32)[:, None] * steps.scale - steps.mean) / steps.std).astype(np.float32)
        normalised = table[resized, np.arange(resized.shape[2])]
        found, _ = det.postprocess_op(det.infer(np.ascontiguousarray(normalised.transpose(2, 0, 1)[None]))[0], prepared.shape[:2])
        if len(found) and top:
            found = np.asarray(found, dtype=np.float32)
            found[:, :, 1] += top
        found = det.filter_tag_det_res(found, (height, width))
        return engine.sorted_boxes(found) if len(found) else None

    def logprobs(self, image: Image.Image) -> np.ndarray:
        """Per-frame log-probabilities of every character for one line image (height 48)."""
        import cv2

        array = np.array(image.convert("RGB"))
        height, width = array.shape[:2]
        new_width = max(16, math.ceil(48 * width / max(height, 1)))
        resized = cv2.resize(array, (new_width, 48)).astype("float32").transpose(2, 0, 1) / 255
        normalised = (resized - 0.5) / 0.5
        output = self.session.run(None, {self.session.get_inputs()[0].name: normalised[None]})[0][0]
        return np.log(np.clip(output, 1e-12, 1.0))

    def day_scores(self, line: Image.Image, first: dt.date, last: dt.date) -> dict[dt.date, tuple[float, str]]:
        """Every date in [first, last] → (how well its best spelling explains the line, that spelling)."""
        logp = self.logprobs(line)
        lexicon = self.lexicon(first, last)
        scores = dict(zip(lexicon.trie.labels, trie_ctc_scores(logp, lexicon.trie, rules()["garbage_penalty"]), strict=True))
        per_day: dict[dt.date, tuple[float, str]] = {}
        for texts in lexicon.by_length:  # the order `ctc_scores` was once called in: ties go the same way
            for text in texts:
                score, when = scores[text], lexicon.spelled[text]
                if score > per_day.get(when, (NEG, ""))[0]:
                    per_day[when] = (float(score), text)
        return per_day

    def lexicon(self, first: dt.date, last: dt.date) -> Lexicon:
        """The candidate spellings of [first, last] (kept for the last few windows: each date
        line is scored on three crops, and a run's PDFs share windows)."""
        key = (first, last)
        if key not in self.lexicons:
            if len(self.lexicons) >= 4:
                self.lexicons.pop(next(iter(self.lexicons)))
            self.lexicons[key] = Lexicon.of(first, last, self.index)
        return self.lexicons[key]

    def best_date(self, lines: list[Image.Image], first: dt.date, last: dt.date) -> Reading | None:
        """The date that best explains the line, its score averaged over crops of it, and its margin.

        Several crops of one line (tight to loose) are scored and averaged, so that a reading that
        only wins on one framing of the ink does not pass the margin.
        """
        total: dict[dt.date, float] = {}
        spelling: dict[dt.date, str] = {}
        for line in lines:
            for day, (score, text) in self.day_scores(line, first, last).items():
                total[day] = total.get(day, 0.0) + score / len(lines)
                spelling.setdefault(day, text)
        ranked = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) < 2:
            return None
        (best, score), (_, runner_up) = ranked[0], ranked[1]
        settings = rules()
        margin = score - runner_up
        accepted = score >= settings["min_score"] and margin >= settings["min_margin"]
        return Reading(best.isoformat(), spelling[best], round(score, 2), round(margin, 2), accepted)


def handwriting_installed() -> bool:
    """Whether the reader's packages are installed (checked without loading the models)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "rapidocr_onnxruntime"))


# Bump when the reader could read a page differently (it keys the cached readings): 2 reads only the
# signature block's lines when looking for "Date:" labels the words do not give; 3 searches only
# the band of rows around the labels (or the block) for lines, and keeps every line level with a
# label (2 dropped those the recogniser scored low, often the pen-written date itself); 4 reads only
# the opening of each line when looking for labels (`LABEL_READ_HEIGHTS`).
READER_VERSION = 4


def handwriting_version() -> str:
    return f"rapidocr_onnxruntime {importlib.metadata.version('rapidocr_onnxruntime')} (PP-OCRv4, reader {READER_VERSION})"


@lru_cache(maxsize=1)
def find_date_reader() -> DateReader | None:
    """The handwriting reader, or None (logged) when its package or models are missing."""
    try:
        return DateReader()
    except Exception as exc:  # ImportError, a missing model file, an onnxruntime load error
        log.warning("handwritten dates will not be read (handwriting = unavailable): %s", exc)
        return None


def date_labels(page_words: list[Word], detected: list[Box], scale: float) -> list[Box]:
    """"Date:" labels in page pixels: from the text layer/Tesseract words, else from the detector."""
    from_words = [
        Box(w.x0 * scale, w.top * scale, w.x1 * scale, w.bottom * scale, w.text)
        for w in page_words
        if DATE_LABEL.match(w.text) and w.x1 - w.x0 < 45
    ]
    return from_words or [b for b in detected if DATE_LABEL.match(b.text)]


# How much of a detected line is read when looking for "Date:" labels: its first this-many line
# heights ("Date:" is about three).
LABEL_READ_HEIGHTS = 6
# Page pixels (200 dpi) above and below the signature block's words where "Date:" labels are sought.
BLOCK_MARGIN = 100
# Page pixels (200 dpi) above and below the "Date:" labels searched for their lines: the detector
# sees this band, not the whole page (about a fifth of its time). 120 lost a fixture's date line.
BAND_MARGIN = 250


def block_rows(page_words: list[Word], scale: float) -> tuple[float, float] | None:
    """The rows (page pixels) of the signature block, or None (the whole page) without its words."""
    if not page_words:
        return None
    return (min(w.top for w in page_words) * scale - BLOCK_MARGIN, max(w.bottom for w in page_words) * scale + BLOCK_MARGIN)


# Crops of one date line: (left, top, right, bottom) padding in pixels at 200 dpi, tight to loose.
LINE_PADDINGS = ((4, 6, 8, 6), (0, 2, 2, 2), (10, 14, 14, 12))


def date_lines(column_boxes: list[Box], label: Box, column: tuple[float, float]) -> list[Box]:
    """Crops of the line a date label sits on, within its column (label included)."""
    line = [b for b in column_boxes if b.overlaps_line(label)]
    if not line:  # nothing detected on the label's line: take the blank up to the column edge
        height = label.bottom - label.top
        return [Box(label.x0, label.top - 0.3 * height, column[1], label.bottom + 0.2 * height)]
    x0, top = min(b.x0 for b in line), min(b.top for b in line)
    x1, bottom = max(b.x1 for b in line), max(b.bottom for b in line)
    return [Box(x0 - left, top - up, x1 + right, bottom + down) for left, up, right, down in LINE_PADDINGS]


def read_party_dates(
    reader: DateReader,
    image: Image.Image,
    scale: float,
    page_words: list[Word],
    lea_left: bool,
    window: tuple[dt.date, dt.date],
    lea_until: dt.date | None = None,
    wanted: tuple[str, ...] = ("lea", "ice"),
) -> dict[str, Reading]:
    """{"lea"|"ice": Reading} for the two columns of a rendered signature page.

    `lea_until`: ICE's signing date when known; the LEA signs first, so its date is sought only
    up to that day. `wanted`: the parties whose date line printed no date (the others are skipped:
    the recogniser is the slow part).
    """
    width = image.width
    middle = width / 2
    labels = date_labels(page_words, [], scale)
    detected = reader.boxes(image, near=labels or None, within=None if labels else block_rows(page_words, scale))
    labels = labels or date_labels([], detected, scale)
    readings: dict[str, Reading] = {}
    for left_side in (True, False):
        party = "lea" if left_side == lea_left else "ice"
        if party not in wanted:
            continue
        column = (0.0, middle - 0.01 * width) if left_side else (middle, 0.97 * width)
        mine = [b for b in labels if (b.centre < middle) == left_side]
        if not mine and labels:  # the two labels sit on one line: mirror the other column's
            other = min(labels, key=lambda b: b.top)
            shift = -middle if left_side else middle
            mine = [Box(other.x0 + shift, other.top, other.x1 + shift, other.bottom, "mirrored")]
        if not mine:
            continue
        label = min(mine, key=lambda b: b.top)
        boxes = date_lines([b for b in detected if (b.centre < middle) == left_side], label, column)
        crops = [
            image.crop((int(max(b.x0, 0)), int(max(b.top, 0)), int(min(b.x1, width)), int(min(b.bottom, image.height))))
            for b in boxes
        ]
        crops = [crop for crop in crops if crop.width >= 8 and crop.height >= 8]
        first, last = window
        if party == "lea" and lea_until is not None:
            last = min(last, lea_until)
        reading = reader.best_date(crops, first, last) if crops and first < last else None
        if reading is not None:
            readings[party] = reading
    return readings
