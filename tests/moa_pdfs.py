"""Small PDFs built byte by byte for the MOA tests: text pages, scanned pages, and broken files.

No PDF-writing library is needed: a text PDF is a handful of objects with a Helvetica content
stream; a "scan" is a PIL image saved as PDF (no text layer, exactly what OCR must handle).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

Line = tuple[float, float, str]  # x, y from the bottom-left (points), text
LETTER = (612, 792)


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: Sequence[Sequence[Line]], encrypt: bool = False, size: int = 11,
             page_size: tuple[float, float] = LETTER) -> bytes:
    """A PDF whose pages carry `pages` as real text (Helvetica) at the given positions."""
    objects: list[bytes] = []
    n_pages = len(pages)
    page_ids = [4 + 2 * i for i in range(n_pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, lines in enumerate(pages):
        stream = "".join(f"BT /F1 {size} Tf {x:.1f} {y:.1f} Td ({escape(t)}) Tj ET\n" for x, y, t in lines).encode("cp1252")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_size[0]} {page_size[1]}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R"
    if encrypt:
        # Standard handler, RC4 40-bit, with O/U values no empty password satisfies: a file that
        # needs a password we do not have.
        trailer += (
            " /Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -44"
            f" /O <{'ab' * 32}> /U <{'cd' * 32}> >> /ID [<{'01' * 16}> <{'01' * 16}>]"
        )
    out.write(f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def column_page(top: Sequence[str], left: Sequence[str], right: Sequence[str], start: float = 700) -> list[Line]:
    """Full-width lines, then two side-by-side columns (a signature block)."""
    lines: list[Line] = [(72, start - 16 * i, text) for i, text in enumerate(top)]
    below = start - 16 * len(top) - 30
    lines += [(72, below - 18 * i, text) for i, text in enumerate(left)]
    lines += [(330, below - 18 * i, text) for i, text in enumerate(right)]
    return lines


def paragraph(lines: Sequence[str], start: float = 720) -> list[Line]:
    return [(72, start - 15 * i, text) for i, text in enumerate(lines)]


def scanned_pdf(lines: Sequence[str], dpi: int = 100, font_px: int = 22) -> bytes:
    """A one-page image-only PDF (a 'scan') showing `lines` in large print."""
    width, height = int(8.5 * dpi), int(11 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_px)
    for i, text in enumerate(lines):
        draw.text((int(0.8 * dpi), int(0.8 * dpi) + i * int(font_px * 1.6)), text, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PDF", resolution=dpi)
    return buffer.getvalue()


MOA_2025_TFM = [
    paragraph(
        [
            "MEMORANDUM OF AGREEMENT",
            "287(g) Task Force Model",
            "This Memorandum of Agreement (MOA) constitutes an agreement between United States",
            "Immigration and Customs Enforcement (ICE), a component of the Department of Homeland",
            "Security (DHS), and the Example County Sheriff's Office (ECSO), pursuant to which ICE delegates",
            "to nominated, trained, and certified officers the authority to perform certain functions.",
            "Revised 02/12/2025",
        ]
    ),
    column_page(
        ["By signing this MOA, each party represents it is fully authorized to enter into this MOA."],
        ["For the LEA:", "Date: March 4, 2025", "Signature: ________", "Name: Jane Q. Doe", "Title: Sheriff"],
        ["For ICE:", "Date: 03/11/2025", "Signature: ________", "Name: John Roe", "Title: Acting Director"],
    )
    + [(400, 40, "Revised 02/12/2025")],
]

MOA_2020_WSO = [
    paragraph(
        [
            "MEMORANDUM OF AGREEMENT",
            "This Memorandum of Agreement (MOA) constitutes an agreement between U.S. Immigration and",
            "Customs Enforcement (ICE), a component of the Department of Homeland Security (DHS), and",
            "the Sample Parish Sheriff's Office, Springfield, LA, hereinafter the law enforcement agency",
            "(LEA). The purpose is to promote public safety by facilitating the custodial transfer",
            "of specific aliens in LEA jail/correctional facilities to ICE.",
        ]
    ),
    column_page(
        ["By signing this MOA, each party represents it is fully authorized to enter into this MOA."],
        ["Date: 2020.06.09 16:25:40", "A. Official", "Assistant Director, Enforcement", "Enforcement and Removal Operations"],
        ["Date: 6-1-2020", "Pat Example", "Sheriff", "Sample Parish Sheriff's Office"],
    ),
]


def blank_ice_date(signer: str) -> list:
    """An MOA whose ICE date line was left blank (as when it is hand-written and unreadable)."""
    return [
        MOA_2025_TFM[0],
        column_page(
            ["By signing this MOA, each party represents it is fully authorized to enter into this MOA."],
            ["For the LEA:", "Date: March 4, 2025", "Signature: ________", f"Name: {signer}", "Title: Sheriff"],
            ["For ICE:", "Date: ____________", "Signature: ________", "Name: John Roe", "Title: Acting Director"],
        ),
    ]


SMALL_ARCHIVE = {  # file → (state, agency folder, pages)
    "AlphaCoTX_TFM_MOA_03.11.2025.pdf": ("TEXAS", "Alpha_County_Sheriff's_Office", MOA_2025_TFM),
    "Beta PD FL_TFM_MOA_03132025.pdf": ("FLORIDA", "Beta_Police_Department", blank_ice_date("Jane Q. Doe")),
    "SharedOhio_TFM_MOA.pdf": ("OHIO", "Gamma_Township_Police", blank_ice_date("Sam Poe")),
}


def write_small_archive(data_dir: Path) -> None:
    """Three text MOAs in the step-1 layout: Alpha (complete), Beta and SharedOhio (ICE date blank)."""
    for name, (state, agency, pages) in SMALL_ARCHIVE.items():
        path = data_dir / "agreements" / "agreements_20250519_024922" / state / agency / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text_pdf(pages))


def metadata_by_name(out_dir: Path) -> dict[str, dict[str, str]]:
    """data/moa_metadata.csv rows keyed by the file name of their (first) archived path."""
    with open(out_dir / "data" / "moa_metadata.csv", newline="", encoding="utf-8") as handle:
        return {row["paths"].rsplit("/", 1)[-1]: row for row in csv.DictReader(handle)}
