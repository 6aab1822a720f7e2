"""The one place that talks to the network.

A `requests.Session` with the project's User-Agent, connect/read timeouts, `urllib3.Retry` (429 and
5xx with backoff, honouring Retry-After), a host allow-list checked on every hop of a redirect, a
size cap, conditional requests, and bodies streamed to a temp file that the caller either moves into
the archive or discards. Nothing here decides what to keep: callers verify and store.
"""

from __future__ import annotations

import email.message
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.util.retry import Retry

from ice_tracker import USER_AGENT
from ice_tracker.fileio import PUBLIC_FILE_MODE

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (15.0, 120.0)  # (connect, read) seconds
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
RETRY_STATUSES = (429, 500, 502, 503, 504)
CHUNK = 256 * 1024


class FetchError(Exception):
    """A download that did not produce a usable body; `str()` is the message recorded in failures."""

    def __init__(self, url: str, message: str):
        super().__init__(message)
        self.url = url


class HostNotAllowed(FetchError):
    pass


class TooLarge(FetchError):
    pass


class HttpStatusError(FetchError):
    def __init__(self, url: str, status: int):
        super().__init__(url, f"HTTP {status}")
        self.status = status


class NetworkError(FetchError):
    """Connection refused/reset, DNS, timeouts, truncated bodies: the network, not the content."""


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After but never sleeps longer than MAX_RETRY_AFTER seconds."""

    MAX_RETRY_AFTER = 120.0

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.MAX_RETRY_AFTER)


@dataclass
class FetchResult:
    """What one GET produced. For 200 the body sits in `temp_path`, which the caller must move or
    discard (see `discard`); for 304 there is no body."""

    url: str
    final_url: str
    status: int
    temp_path: Path | None = None
    sha256: str = ""
    size: int = 0
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    filename: str = ""
    head: bytes = b""  # the first bytes of the body, for magic-number checks

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def discard(self) -> None:
        if self.temp_path is not None and self.temp_path.exists():
            self.temp_path.unlink()
        self.temp_path = None


@dataclass
class HttpStats:
    requests: int = 0
    bytes_downloaded: int = 0
    not_modified: int = 0
    seconds: float = 0.0  # wall time inside requests and body streaming ("the network")
    hosts_refused: list[str] = field(default_factory=list)


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """`host` is one of `allowed` or a subdomain of one (www.ice.gov under ice.gov)."""
    host = (host or "").lower().rstrip(".")
    return any(host == a or host.endswith("." + a) for a in (h.lower().rstrip(".") for h in allowed))


def filename_from_headers(content_disposition: str | None) -> str:
    """The file name a server announces in Content-Disposition (RFC 6266/5987 forms), or ''."""
    if not content_disposition:
        return ""
    message = email.message.Message()
    message["content-disposition"] = content_disposition
    name = message.get_filename() or ""
    return os.path.basename(name.replace("\\", "/")).strip()


def filename_from_url(url: str) -> str:
    return unquote(os.path.basename(urlsplit(url).path)).strip()


class _GuardedSession(requests.Session):
    """A Session that refuses, before connecting, any redirect to a host off the allow-list."""

    def __init__(self, allowed_hosts: set[str], stats: HttpStats):
        super().__init__()
        self.allowed_hosts = allowed_hosts
        self.stats = stats

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target:
            absolute = urljoin(resp.url, target)
            host = urlsplit(absolute).hostname or ""
            if not host_allowed(host, self.allowed_hosts):
                self.stats.hosts_refused.append(host)
                resp.close()
                raise HostNotAllowed(resp.url, f"redirect to host not on the allow-list: {host} ({absolute})")
        return target


# ----- resumable downloads (big files: DDP releases) ---------------------------------------------


def _validators_path(partial: Path) -> Path:
    return partial.with_name(partial.name + ".json")


def _read_validators(partial: Path, url: str) -> dict[str, str]:
    """The validators saved beside a partial body of `url`, or {} (and no partial) if unusable."""
    side = _validators_path(partial)
    try:
        saved = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    if not isinstance(saved, dict) or saved.get("url") != url or not partial.is_file():
        partial.unlink(missing_ok=True)
        side.unlink(missing_ok=True)
        return {}
    return saved


def _content_range_start(value: str) -> int | None:
    """'bytes 100-199/200' → 100."""
    try:
        unit, rest = value.split(" ", 1)
        return int(rest.split("-", 1)[0]) if unit.strip().lower() == "bytes" else None
    except ValueError:
        return None


def _expected_total(response: requests.Response, have: int) -> int | None:
    if response.status_code == 206:
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    declared = response.headers.get("Content-Length", "")
    return have + int(declared) if declared.isdigit() else None


def _hash_file(path: Path) -> tuple[str, bytes]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        head = handle.read(2048)
        digest.update(head)
        for block in iter(lambda: handle.read(CHUNK * 4), b""):
            digest.update(block)
    return digest.hexdigest(), head


class ResumableMixin:
    """`HttpClient.fetch_resumable`: big bodies kept in a named partial file across interruptions."""

    def fetch_resumable(self: "HttpClient", url: str, partial: Path, *,  # type: ignore[misc]
                        max_bytes: int | None = None, attempts: int = 3) -> FetchResult:
        """GET `url` into `partial`, resuming with Range/If-Range after an interruption.

        The partial body and its validators (a `.json` beside it) survive a failed attempt and a
        failed run, so the next attempt (this run or the next) asks only for the missing bytes; a
        server that ignores the range (200) or whose file changed (If-Range fails) sends the whole
        body again. On success `temp_path` is `partial`, complete and hashed; the caller moves it.
        Raises FetchError subclasses; HTTP errors and oversize bodies discard nothing they should
        keep (oversize: the partial is removed).
        """
        cap = max_bytes or self.max_bytes
        partial = Path(partial)
        partial.parent.mkdir(parents=True, exist_ok=True)
        last_error: FetchError | None = None
        for _ in range(max(1, attempts)):
            saved = _read_validators(partial, url)
            have = partial.stat().st_size if saved else 0
            validator = saved.get("etag") or saved.get("last_modified") or ""
            headers = {"Range": f"bytes={have}-", "If-Range": validator} if have and validator else {}
            response = self._get(url, headers)
            with response:
                if response.status_code == 416:
                    partial.unlink(missing_ok=True)
                    last_error = HttpStatusError(url, 416)
                    continue
                if response.status_code not in (200, 206):
                    raise HttpStatusError(url, response.status_code)
                if response.status_code == 206 and _content_range_start(response.headers.get("Content-Range", "")) != have:
                    partial.unlink(missing_ok=True)
                    last_error = NetworkError(url, "server answered a range we did not ask for")
                    continue
                offset = have if response.status_code == 206 else 0
                total = _expected_total(response, offset)
                if total is not None and total > cap:
                    partial.unlink(missing_ok=True)
                    _validators_path(partial).unlink(missing_ok=True)
                    raise TooLarge(url, f"declared size {total:,} bytes exceeds the cap of {cap:,}")
                result = FetchResult(
                    url=url, final_url=response.url, status=200,
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""),
                    content_type=response.headers.get("Content-Type", "").split(";")[0].strip(),
                    filename=filename_from_headers(response.headers.get("Content-Disposition"))
                    or filename_from_url(response.url),
                )
                _validators_path(partial).write_text(json.dumps(
                    {"url": url, "etag": result.etag, "last_modified": result.last_modified}), encoding="utf-8")
                try:
                    size = self._append_body(response, partial, offset, cap, url)
                except NetworkError as exc:
                    log.info("%s; will resume from byte %s", exc, f"{partial.stat().st_size:,}")
                    last_error = exc
                    continue
            if total is not None and size != total:
                last_error = NetworkError(url, f"body ended at {size:,} of {total:,} bytes")
                continue
            _validators_path(partial).unlink(missing_ok=True)
            result.temp_path = partial
            result.size = size
            result.sha256, result.head = _hash_file(partial)
            if offset:
                log.info("resumed %s at byte %s", url, f"{offset:,}")
            return result
        assert last_error is not None
        raise last_error

    def _append_body(self: "HttpClient", response: requests.Response, partial: Path, offset: int,  # type: ignore[misc]
                     cap: int, url: str) -> int:
        """Write the body at `offset` of `partial` (0 truncates); returns the file's size."""
        started = time.perf_counter()
        size = offset
        try:
            with open(partial, "r+b" if offset else "wb") as handle:
                os.fchmod(handle.fileno(), PUBLIC_FILE_MODE)
                handle.seek(offset)
                handle.truncate()
                try:
                    for chunk in response.iter_content(CHUNK):
                        size += len(chunk)
                        self.stats.bytes_downloaded += len(chunk)
                        if size > cap:
                            raise TooLarge(url, f"body exceeds the cap of {cap:,} bytes")
                        handle.write(chunk)
                finally:
                    handle.flush()
                    os.fsync(handle.fileno())
        except TooLarge:
            partial.unlink(missing_ok=True)
            _validators_path(partial).unlink(missing_ok=True)
            raise
        except (requests.exceptions.RequestException, OSError) as exc:
            raise NetworkError(url, f"body interrupted after {size:,} bytes: {type(exc).__name__}") from exc
        finally:
            self.stats.seconds += time.perf_counter() - started
        return size


class HttpClient(ResumableMixin):
    """Downloads with timeouts, retries, an allow-list and a size cap; see the module docstring."""

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str],
        temp_dir: Path,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 4,
        backoff_factor: float = 2.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        user_agent: str = USER_AGENT,
        progress: bool | None = None,
    ):
        self.allowed_hosts = {h.lower() for h in allowed_hosts if h}
        self.temp_dir = Path(temp_dir)
        self.timeout = timeout
        self.max_bytes = max_bytes
        # tqdm: None = only on a terminal; never in CI logs.
        self.progress = False if os.environ.get("CI") else progress
        self.stats = HttpStats()
        retry = CappedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=retries,
            backoff_factor=backoff_factor,
            backoff_max=120,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = _GuardedSession(self.allowed_hosts, self.stats)
        self.session.headers["User-Agent"] = user_agent
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_host(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported URL scheme: {parts.scheme or '(none)'}")
        host = parts.hostname or ""
        if not host_allowed(host, self.allowed_hosts):
            self.stats.hosts_refused.append(host)
            raise HostNotAllowed(url, f"host not on the allow-list: {host}")

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        self.check_host(url)
        self.stats.requests += 1
        started = time.perf_counter()
        try:
            response = self.session.get(url, headers=headers, timeout=self.timeout, stream=True)
        except FetchError:
            raise
        except requests.exceptions.RetryError as exc:
            raise NetworkError(url, f"gave up after retries: {exc}") from exc
        except requests.exceptions.Timeout as exc:
            raise NetworkError(url, f"timed out: {type(exc).__name__}") from exc
        except requests.exceptions.RequestException as exc:
            raise NetworkError(url, f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.stats.seconds += time.perf_counter() - started
        return response

    def get_text(self, url: str, max_bytes: int = 10 * 1024 * 1024) -> tuple[str, str]:
        """A small text resource (an HTML page). Returns (final_url, text)."""
        result = self.fetch(url, max_bytes=max_bytes)
        try:
            assert result.temp_path is not None
            raw = result.temp_path.read_bytes()
        finally:
            result.discard()
        return result.final_url, raw.decode("utf-8", errors="replace")

    def fetch(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET `url`, conditionally when validators are given; stream the body to a temp file.

        Raises FetchError subclasses for refused hosts, HTTP errors, oversize and network failures;
        never leaves a temp file behind on error.
        """
        cap = max_bytes or self.max_bytes
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._get(url, headers)
        with response:
            result = FetchResult(
                url=url,
                final_url=response.url,
                status=response.status_code,
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
                content_type=response.headers.get("Content-Type", "").split(";")[0].strip(),
                filename=filename_from_headers(response.headers.get("Content-Disposition"))
                or filename_from_url(response.url),
            )
            if response.status_code == 304:
                self.stats.not_modified += 1
                return result
            if response.status_code != 200:
                raise HttpStatusError(url, response.status_code)
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise TooLarge(url, f"declared size {int(declared):,} bytes exceeds the cap of {cap:,}")
            self._stream_body(response, result, cap, int(declared) if declared and declared.isdigit() else None)
        return result

    def _stream_body(self, response: requests.Response, result: FetchResult, cap: int, total: int | None) -> None:
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="download.", suffix=".part", dir=self.temp_dir)
        os.fchmod(fd, PUBLIC_FILE_MODE)  # it may become an archived, published file
        temp_path = Path(name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        started = time.perf_counter()
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=result.filename[:40] or "download",
                   disable=True if self.progress is False else None, leave=False)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    self.stats.bytes_downloaded += len(chunk)
                    if size > cap:
                        raise TooLarge(result.url, f"body exceeds the cap of {cap:,} bytes")
                    if len(head) < 2048:
                        head += chunk[: 2048 - len(head)]
                    digest.update(chunk)
                    handle.write(chunk)
                    bar.update(len(chunk))
                handle.flush()
                os.fsync(handle.fileno())
        except FetchError:
            temp_path.unlink(missing_ok=True)
            raise
        except (requests.exceptions.RequestException, OSError) as exc:
            temp_path.unlink(missing_ok=True)
            raise NetworkError(result.url, f"body interrupted after {size:,} bytes: {type(exc).__name__}") from exc
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise
        finally:
            bar.close()
            self.stats.seconds += time.perf_counter() - started
        result.temp_path = temp_path
        result.sha256 = digest.hexdigest()
        result.size = size
        result.head = head
