"""URL handling shared by every source: unwrap Outlook safelinks, resolve relative hrefs, and parse an
untrusted link once into the exact host and port that both the allow-list and the connection use."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

SAFELINK_HOST_SUFFIX = ".safelinks.protection.outlook.com"


def is_safelink(url: str) -> bool:
    host = (urlsplit(url.strip()).hostname or "").lower()
    return host.endswith(SAFELINK_HOST_SUFFIX)


def unwrap_safelink(url: str) -> str:
    """The real URL inside an Outlook safelink (repeatedly, for nested wraps); other URLs unchanged.

    `https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov%2F…pdf&data=…`
    → `https://www.ice.gov/….pdf`.
    """
    current = url.strip()
    for _ in range(5):
        if not is_safelink(current):
            return current
        inner = parse_qs(urlsplit(current).query).get("url")
        if not inner or not inner[0].strip():
            return current
        current = inner[0].strip()
    return current


def absolute_url(href: str, base_url: str) -> str:
    """Resolve relative, root-relative and protocol-relative hrefs against the page URL."""
    href = href.strip()
    resolved = urljoin(base_url, href)
    parts = urlsplit(resolved)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


class BadLink(ValueError):
    """A link we refuse to follow: not plain http(s), or written so that parsers could disagree on its host."""


@dataclass(frozen=True)
class Link:
    """A URL parsed once: the host the allow-list checks is the host the connection goes to."""

    scheme: str
    host: str  # lower case, ASCII, no trailing dot
    port: int | None
    path: str
    query: str

    @property
    def url(self) -> str:
        """The URL rebuilt from the checked parts only (no userinfo, no fragment)."""
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            netloc += f":{self.port}"
        return urlunsplit((self.scheme, netloc, self.path or "/", self.query, ""))


def parse_link(url: str) -> Link:
    """Parse an untrusted link for fetching, or raise BadLink.

    Refused, because Python's and urllib3's parsers read them differently (so a check could pass on
    one host while the connection goes to another): backslashes, userinfo (`user@host`), control
    characters, non-ASCII hosts, and anything but http/https with a valid port.
    """
    text = url.strip()
    if "\\" in text:
        raise BadLink(f"backslash in link: {text!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise BadLink(f"control character in link: {text!r}")
    parts = urlsplit(text.replace(" ", "%20"))  # as browsers do; a space in the host stays invalid
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadLink(f"unsupported URL scheme: {scheme or '(none)'}")
    if "@" in parts.netloc:
        raise BadLink(f"userinfo in link: {text!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BadLink(f"no host in link: {text!r}")
    if not host.isascii():
        raise BadLink(f"non-ASCII host in link: {host!r}")
    if not all(ch.isalnum() or ch in "-._:" for ch in host):
        raise BadLink(f"invalid host in link: {host!r}")
    try:
        port = parts.port
    except ValueError:
        raise BadLink(f"invalid port in link: {text!r}") from None
    return Link(scheme, host, port, parts.path, parts.query)
