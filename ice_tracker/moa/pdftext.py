"""One agreement PDF → its text, page by page: the text layer where there is one, OCR where not.

Also keeps what a viewer shows but the text layer lacks: filled-in form fields (some 2025 MOAs
carry the agency name and signing dates only as AcroForm values) and the date of each digital
signature (a 2020 MOA whose ICE date exists only in the signature dictionary).
Bad files raise `PdfReadError` with a kind (not_pdf / encrypted / corrupt), never anything else.
"""

from __future__ import annotations

import logging
import math
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pdfplumber
from PIL import Image
import pypdfium2 as pdfium
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.utils import decode_text

from ice_tracker.moa.ocr import Ocr, OcrError
from ice_tracker.moa.ocr_cache import Box, load_words, save_words
from ice_tracker.moa.pdfium_text import has_widgets, image_share, read_text_layer
from ice_tracker.moa.words import Word, decode_cids, lines_from_words, ocr_page_text

log = logging.getLogger(__name__)

# A page "has a text layer" when it carries at least this many visible characters; a page that is
# one big image with only a few typed-in words (a scan with a stamped name) is OCRed as a whole.
MIN_TEXT_CHARS = 50
MIN_TEXT_CHARS_ON_IMAGE = 400
BIG_IMAGE_SHARE = 0.5
SIGNATURE_HINT = re.compile(r"By\s+signing|\bDate\s*[:;]|\bSignature\s*[:;]", re.IGNORECASE)


class PdfReadError(Exception):
    """A file that cannot be read as an agreement: kind is not_pdf, encrypted or corrupt."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass
class Page:
    number: int
    text: str
    words: list[Word]
    width: float
    height: float
    source: str  # text | ocr | none (needed OCR, none available) | ocr_failed | deferred (OCR left for later)
    is_scan: bool = False  # one image covers most of the page (a scan, maybe with an OCR layer)


@dataclass(frozen=True)
class FormField:
    name: str
    value: str
    page: int


@dataclass(frozen=True)
class DigitalSignature:
    signer: str
    date: str  # ISO date of the signing time
    page: int
    x0: float


@dataclass
class PdfContent:
    pages: list[Page]
    form_fields: list[FormField] = field(default_factory=list)
    signatures: list[DigitalSignature] = field(default_factory=list)
    # for the bench/log: seconds reading text and OCRing, pages Tesseract read (ocr_page_words)
    seconds: dict[str, float] = field(default_factory=lambda: {"text": 0.0, "ocr": 0.0})
    sha256: str = ""  # the file's, when the caller knows it: OCR results are cached under it

    @property
    def text(self) -> str:
        return "".join(f"\f[page {p.number}]\n{p.text}\n" for p in self.pages).lstrip("\f")

    @property
    def text_layer(self) -> bool:
        """True when at least half the pages carry their own text (False = a scan)."""
        with_text = sum(1 for p in self.pages if p.source == "text")
        return bool(self.pages) and with_text * 2 >= len(self.pages)

    @property
    def ocr_status(self) -> str:
        sources = {p.source for p in self.pages}
        if "ocr_failed" in sources:
            return "failed"
        if "none" in sources:
            return "unavailable"
        if "deferred" in sources:
            return "pending"
        return "used" if "ocr" in sources else "not_needed"


def sniff(path: Path) -> None:
    """Reject what is not a PDF at all (an HTML error page saved as .pdf, an empty file)."""
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if not head:
        raise PdfReadError("not_pdf", "empty file")
    if b"%PDF-" not in head:
        lowered = head.lstrip()[:200].lower()
        what = "HTML page" if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered else "no %PDF header"
        raise PdfReadError("not_pdf", what)


def pdf_string(value: object) -> str:
    if isinstance(value, bytes):
        return decode_text(value).strip()
    return str(value).strip() if isinstance(value, str) else ""


PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})")


def widgets(page: pdfplumber.page.Page, number: int) -> tuple[list[FormField], list[DigitalSignature], list[Word]]:
    """Filled form fields and digital signatures on one page, plus the field values as words."""
    fields: list[FormField] = []
    signatures: list[DigitalSignature] = []
    words: list[Word] = []
    for annot in page.annots:
        data = annot.get("data") or {}
        value = data.get("V")
        name = pdf_string(data.get("T"))
        if isinstance(value, dict):  # a signature value dictionary
            when = PDF_DATE.search(pdf_string(value.get("M")))
            if when:
                iso = "-".join(when.groups())
                signatures.append(DigitalSignature(pdf_string(value.get("Name")), iso, number, float(annot["x0"])))
            continue
        text = pdf_string(value)
        if not text:
            continue
        fields.append(FormField(name, text, number))
        words.append(Word(text, float(annot["x0"]), float(annot["x1"]), float(annot["top"]), float(annot["bottom"])))
    return fields, signatures, words


def has_big_image(page: pdfplumber.page.Page) -> bool:
    area = float(page.width * page.height) or 1.0
    return any(
        (float(im["x1"]) - float(im["x0"])) * (float(im["bottom"]) - float(im["top"])) >= BIG_IMAGE_SHARE * area
        for im in page.images
    )


def needs_ocr(text: str, is_scan: bool) -> bool:
    visible = len(re.sub(r"\s+", "", text))
    return visible < MIN_TEXT_CHARS or (is_scan and visible < MIN_TEXT_CHARS_ON_IMAGE)


def text_layer_page(page: pdfplumber.page.Page, number: int) -> tuple[Page, bool]:
    text = decode_cids(page.extract_text() or "")
    words = []
    if SIGNATURE_HINT.search(text):  # positions are only needed where a signature block may be
        words = [
            Word(decode_cids(w["text"]), float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]))
            for w in page.extract_words()
        ]
    is_scan = has_big_image(page)
    page_text = Page(number, text, words, float(page.width), float(page.height), "text", is_scan)
    return page_text, needs_ocr(text, is_scan)


def root_cause(exc: BaseException) -> BaseException:
    """The pdfminer error under pdfplumber's wrapper (kept in args or the exception chain)."""
    seen = exc
    for _ in range(5):
        inner = next((a for a in seen.args if isinstance(a, BaseException)), None) or seen.__cause__ or seen.__context__
        if inner is None:
            break
        seen = inner
    return seen


def read_pdf(path: Path, ocr: Ocr | None, defer_ocr: bool = False, sha256: str = "") -> PdfContent:
    """Text of every page of `path`; pages without a text layer are OCRed when `ocr` is given
    (`defer_ocr`: not yet; they are marked `deferred` for the caller to OCR the ones it needs).

    The text layer is read with pdfium (`pdfium_text`, ~20x faster than pdfminer, same layout);
    form fields and signatures with pdfminer, only on pages that carry widgets. A file pdfium
    cannot open is read the old way, which also classifies why it is unreadable."""
    sniff(path)
    started = time.perf_counter()
    try:
        document: pdfium.PdfDocument | None = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        document = None  # read outside this handler, so pdfminer's error is not chained to pdfium's
    if document is None:
        content = read_with_pdfplumber(path)
    else:
        try:
            content = read_with_pdfium(path, document)
        finally:
            document.close()
    if not content.pages:
        raise PdfReadError("corrupt", "no pages")
    content.sha256 = sha256
    content.seconds["text"] += time.perf_counter() - started
    to_ocr = [i for i, page in enumerate(content.pages) if needs_ocr(page.text, page.is_scan)]
    if to_ocr:
        if ocr is None or defer_ocr:
            for index in to_ocr:
                content.pages[index] = replace(content.pages[index], source="none" if ocr is None else "deferred")
        else:
            ocr_pages(path, content, to_ocr, ocr)
    return content


def read_with_pdfium(path: Path, document: pdfium.PdfDocument) -> PdfContent:
    content = PdfContent(pages=[])
    with_widgets = []
    for index in range(len(document)):
        page = document[index]
        try:
            text, words = read_text_layer(page)
            is_scan = image_share(page) >= BIG_IMAGE_SHARE
            width, height = page.get_width(), page.get_height()
            if has_widgets(page):
                with_widgets.append(index)
        finally:
            page.close()
        kept = words if SIGNATURE_HINT.search(text) else []  # positions matter only near a signature block
        content.pages.append(Page(index + 1, text, kept, float(width), float(height), "text", is_scan))
    if with_widgets:
        try:
            with pdfplumber.open(path, pages=[i + 1 for i in with_widgets]) as pdf:
                for index, plumber_page in zip(with_widgets, pdf.pages, strict=True):
                    fields, signatures, field_words = widgets(plumber_page, index + 1)
                    content.pages[index].words.extend(field_words)
                    content.form_fields.extend(fields)
                    content.signatures.extend(signatures)
        except Exception as exc:  # pdfminer raises many unrelated types on damaged files
            log.warning("%s: form fields not read (%s: %s)", path.name, type(exc).__name__, exc)
    return content


def read_with_pdfplumber(path: Path) -> PdfContent:
    """The text layer read with pdfplumber: for files pdfium refuses (raises `PdfReadError` with
    the reason when pdfminer refuses them too)."""
    content = PdfContent(pages=[])
    try:
        with pdfplumber.open(path) as pdf:
            for index, plumber_page in enumerate(pdf.pages):
                page, _ = text_layer_page(plumber_page, index + 1)
                fields, signatures, field_words = widgets(plumber_page, index + 1)
                page.words.extend(field_words)
                content.form_fields.extend(fields)
                content.signatures.extend(signatures)
                content.pages.append(page)
    except PdfReadError:
        raise
    except Exception as exc:  # pdfminer raises many unrelated types on damaged files
        cause = root_cause(exc)
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise PdfReadError("encrypted", f"needs a password ({type(cause).__name__})") from exc
        raise PdfReadError("corrupt", f"{type(cause).__name__}: {cause}"[:300]) from exc
    return content


def ocr_page_words(path: Path, sha256: str, numbers: list[int], ocr: Ocr, dpi: int | None = None,
                   forms: bool = False, tally: dict[str, float] | None = None,
                   box: Box = None) -> dict[int, list[Word] | None]:
    """Tesseract's words for pages `numbers` (1-based) at `dpi` (default: the OCR's): from the
    cache when read before, else rendered here (pdfium is not thread-safe: one page at a time)
    and read by Tesseract processes running side by side, one per core. None for a page that
    could not be read (logged). `forms`: draw filled form values, as a viewer shows them.
    `tally` counts the pages Tesseract read ("tesseract_pages"; "tesseract_strip_pages" for a
    part of a page, "tesseract_coarse_pages" below the OCR's dpi), for the bench. `box`: read
    only that part of each page ((x0, top, x1, bottom) in points; cached apart from whole
    pages), its words still placed on the page."""
    dpi = dpi or ocr.dpi
    found: dict[int, list[Word] | None] = {}
    for number in numbers:
        cached = load_words(ocr.cache_dir, sha256, number, dpi, ocr.engine, box)
        if cached is not None:
            found[number] = cached
    todo = [n for n in numbers if n not in found]
    if not todo:
        return found
    scale = dpi / 72.0
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        log.warning("cannot render %s for OCR: %s", path, exc)
        return {**found, **dict.fromkeys(todo)}
    try:
        if forms:
            document.init_forms()
        with ThreadPoolExecutor(max_workers=min(len(todo), ocr.threads)) as pool:
            running: dict[int, Future[list[Word]]] = {}
            for number in todo:
                try:
                    image, left, top = render_for_ocr(document[number - 1], scale, box)
                except pdfium.PdfiumError as exc:
                    log.warning("OCR failed on page %d: %s", number, exc)
                    found[number] = None
                    continue
                running[number] = pool.submit(ocr.words, image, scale, left / scale, top / scale)
            for number, future in running.items():
                try:
                    words = future.result()
                except OcrError as exc:
                    log.warning("OCR failed on page %d: %s", number, exc)
                    found[number] = None
                    continue
                save_words(ocr.cache_dir, sha256, number, dpi, ocr.engine, words, box)
                found[number] = words
                if tally is not None:
                    key = "tesseract_coarse_pages" if dpi < ocr.dpi else "tesseract_strip_pages" if box else "tesseract_pages"
                    tally[key] = tally.get(key, 0.0) + 1
    finally:
        document.close()
    return found


def ocr_pages(path: Path, content: PdfContent, indexes: list[int], ocr: Ocr, box: Box = None) -> None:
    """OCR the pages at `indexes` in place (a page that cannot be read is marked ocr_failed).
    `box`: read only that part of each page, which then stands for the page's words and text."""
    started = time.perf_counter()
    read = ocr_page_words(path, content.sha256, [i + 1 for i in indexes], ocr, forms=bool(content.form_fields),
                          tally=content.seconds, box=box)
    for index in indexes:
        page, words = content.pages[index], read.get(index + 1)
        if words is None:
            content.pages[index] = replace(page, source="ocr_failed")
        else:
            content.pages[index] = replace(page, text=ocr_page_text(words), words=words, source="ocr")
    content.seconds["ocr"] += time.perf_counter() - started


def render_for_ocr(page: pdfium.PdfPage, scale: float, box: Box) -> tuple[Image.Image, int, int]:
    """The page in grey at `scale` (form values drawn), or only its part `box` (points, whole pixels
    inside the page), and where that part starts (pixels). A part is drawn alone, not cut from the
    whole page: on a scan, drawing a 200-dpi page costs ~0.18 s and its upper half ~0.05 s. The
    pixels are those of the whole page's drawing but where pdfium resamples a clipped image a little
    differently: on the 17 fixtures Tesseract then reads a few characters differently, every date
    and name read stays the same (one date now comes from the scan's typed text, one kept margin of
    the handwriting reader moved from 3.36 to 3.18)."""
    if box is None:
        return page.render(scale=scale, may_draw_forms=True).to_pil().convert("L"), 0, 0
    # the whole page's pixel grid, as pypdfium2 sizes it; the part's edges on it, as cut before
    width, height = math.ceil(page.get_width() * scale), math.ceil(page.get_height() * scale)
    left, top = max(0, round(box[0] * scale)), max(0, round(box[1] * scale))
    right, bottom = min(width, round(box[2] * scale)), min(height, round(box[3] * scale))
    if right > left and bottom > top:
        # pypdfium2 rounds a crop's points up to pixels: half a pixel less lands on the pixel itself
        margins = (left, height - bottom, width - right, top)  # left, bottom, right, top
        crop = tuple(max(0.0, (pixels - 0.5) / scale) if pixels else 0.0 for pixels in margins)
        image = page.render(scale=scale, crop=crop, may_draw_forms=True).to_pil().convert("L")
        if image.size == (right - left, bottom - top):
            return image, left, top
    whole = page.render(scale=scale, may_draw_forms=True).to_pil().convert("L")  # an empty or odd part: cut it
    return whole.crop((left, top, min(whole.width, right), min(whole.height, bottom))), left, top


def reread_strip(path: Path, content: PdfContent, number: int, ocr: Ocr, strip: tuple[float, float]) -> PdfContent | None:
    """A copy of `content` whose page `number` has its strip (top, bottom in points) OCRed instead
    of taken from its text layer: the page's words are the strip's, its text the text layer's
    lines above the strip followed by the strip's. None when the strip cannot be read."""
    started = time.perf_counter()
    copy = PdfContent(list(content.pages), content.form_fields, content.signatures, dict(content.seconds), content.sha256)
    page = content.pages[number - 1]
    words = ocr_page_words(path, content.sha256, [number], ocr, forms=bool(content.form_fields), tally=copy.seconds,
                           box=(0.0, strip[0], page.width, strip[1])).get(number)
    copy.seconds["ocr"] += time.perf_counter() - started
    if words is None:
        return None
    above = lines_from_words(w for w in page.words if w.bottom <= strip[0])
    copy.pages[number - 1] = replace(page, text="\n".join([*above, ocr_page_text(words)]), words=words, source="ocr")
    return copy


def render_page(path: Path, number: int, dpi: int) -> tuple[Image.Image, str]:
    """Page `number` drawn in grey at `dpi` (form values drawn), and the PDF's ModDate as ISO date.

    The modification date bounds when the pages were signed (they were signed before the file
    was last saved); it is "" when the PDF does not carry one.
    """
    document = pdfium.PdfDocument(path)
    try:
        document.init_forms()
        image = document[number - 1].render(scale=dpi / 72.0, may_draw_forms=True).to_pil().convert("RGB")
        modified = PDF_DATE.search(document.get_metadata_dict().get("ModDate", "") or "")
    finally:
        document.close()
    return image, "-".join(modified.groups()) if modified else ""
