"""Turn untrusted names (agency names, published file names) into safe path components.

Agency names come from a government spreadsheet and file names from remote servers: either may hold
`../`, slashes, NULs, control characters or 300 characters. A component is NFC-normalised, stripped
of anything a filesystem or a git checkout on Windows would trip on, and capped in length (with a
short hash so two long names never collide).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

RESERVED = re.compile(r'[/\\<>:"|?*]')
WHITESPACE = re.compile(r"\s+")
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_COMPONENT_BYTES = 120


def _truncate(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def safe_component(raw: str, *, underscores: bool = False, max_bytes: int = MAX_COMPONENT_BYTES) -> str:
    """One path component that cannot escape its folder. `underscores` turns spaces into `_`
    (the folder style users of the original tracker know: `Lee_County_Sheriff's_Office`)."""
    text = unicodedata.normalize("NFC", str(raw))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    text = RESERVED.sub("_", text)
    text = WHITESPACE.sub(" ", text).strip().strip(". ")
    if underscores:
        text = text.replace(" ", "_")
    if not text.strip("._"):
        text = "_"
    stem, dot, ext = text.rpartition(".")
    if (stem if dot else text).upper() in WINDOWS_DEVICES:
        text = "_" + text
    if len(text.encode("utf-8")) > max_bytes:
        tag = hashlib.sha256(str(raw).encode("utf-8", errors="surrogatepass")).hexdigest()[:8]
        keep_ext = f".{ext}" if dot and 0 < len(ext) <= 8 else ""
        body = text[: -len(keep_ext)] if keep_ext else text
        text = _truncate(body, max_bytes - len(keep_ext.encode("utf-8")) - 9).rstrip(". ") + "~" + tag + keep_ext
    return text
