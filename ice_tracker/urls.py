"""URL clean-up shared by every source: unwrap Outlook safelinks, resolve relative hrefs."""

from __future__ import annotations

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
