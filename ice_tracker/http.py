"""The one place that talks to the network.

A `requests.Session` with the project's User-Agent, connect/read timeouts, `urllib3.Retry` (429 and
5xx with backoff, honouring Retry-After), every URL parsed once (`urls.parse_link`) so the host the
allow-list checks on every hop of a redirect is the host connected to, a size cap, a wall deadline per
file, conditional requests, and bodies streamed to a temp file that the caller either moves into the
archive or discards. A body cut short (reset, read timeout, fewer bytes than declared) is fetched
again within the run, resuming with Range where the server allows. Nothing here decides what to keep:
callers verify and store.
"""

from __future__ import annotations

import email.message
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from tqdm import tqdm
from urllib3.util.retry import Retry

from ice_tracker import USER_AGENT
from ice_tracker.config import env_number
from ice_tracker.deadline import Deadline, Sockets, TrackingAdapter
from ice_tracker.fileio import PUBLIC_FILE_MODE
from ice_tracker.limits import limit
from ice_tracker.urls import BadLink, parse_link

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (15.0, 120.0)  # (connect, read) seconds
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
RETRY_STATUSES = (429, 500, 502, 503, 504)
CHUNK = 64 * 1024  # a cut body keeps all but the last chunk, which is lost with the connection


class FetchError(Exception):
    """A download that did not produce a usable body; `str()` is the message recorded in failures."""

    def __init__(self, url: str, message: str):
        super().__init__(message)
        self.url = url


class HostNotAllowed(FetchError):
    pass


class BadUrl(FetchError):
    """A link refused before connecting (see `urls.parse_link`)."""


class DeadlineExceeded(FetchError):
    """The file took longer than its wall deadline in total (a trickling or stalling server)."""


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
    """A Session that refuses, before connecting, any redirect to a link `parse_link` rejects or to a
    host off the allow-list, and follows the rebuilt, checked URL (never the raw Location)."""

    def __init__(self, allowed_hosts: set[str], stats: HttpStats):
        super().__init__()
        self.allowed_hosts = allowed_hosts
        self.stats = stats

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target:
            absolute = urljoin(resp.url, target)
            try:
                return checked_url(absolute, self.allowed_hosts, self.stats)
            except FetchError as exc:
                resp.close()
                raise type(exc)(resp.url, f"redirect refused: {exc}") from None
        return target


def checked_url(url: str, allowed: Iterable[str], stats: HttpStats | None = None) -> str:
    """`url` parsed once and rebuilt from the parts the allow-list checked; raises BadUrl/HostNotAllowed."""
    try:
        link = parse_link(url)
    except BadLink as exc:
        if stats is not None:
            stats.hosts_refused.append(url)
        raise BadUrl(url, str(exc)) from None
    if not host_allowed(link.host, allowed):
        if stats is not None:
            stats.hosts_refused.append(link.host)
        raise HostNotAllowed(url, f"host not on the allow-list: {link.host} ({link.url})")
    return link.url


def _enforce(deadline: Deadline, url: str) -> None:
    if deadline.expired():
        raise DeadlineExceeded(url, f"gave up after the {deadline.seconds:g} s deadline for one file")


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


def _result_from(url: str, response: requests.Response) -> FetchResult:
    return FetchResult(
        url=url, final_url=response.url, status=response.status_code,
        etag=response.headers.get("ETag", ""),
        last_modified=response.headers.get("Last-Modified", ""),
        content_type=response.headers.get("Content-Type", "").split(";")[0].strip(),
        filename=filename_from_headers(response.headers.get("Content-Disposition")) or filename_from_url(response.url),
    )


def _drop(path: Path, keep: bool) -> None:
    """Remove a body (and its validators) unless it is a resumable partial worth keeping."""
    if not keep:
        path.unlink(missing_ok=True)
        _validators_path(path).unlink(missing_ok=True)


class HttpClient:
    """Downloads with timeouts, retries, an allow-list, a size cap and a deadline; see the module docstring."""

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
        self.sockets = Sockets()
        adapter = TrackingAdapter(self.sockets, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def allow(self, urls: Iterable[str]) -> None:
        """Add the hosts of `urls` (configured endpoints, never links read from pages) to the allow-list."""
        self.allowed_hosts.update(parse_link(u).host for u in urls)

    def check_host(self, url: str) -> str:
        """The URL to connect to, rebuilt from what was checked; raises BadUrl or HostNotAllowed."""
        return checked_url(url, self.allowed_hosts, self.stats)

    def _get(self, url: str, headers: dict[str, str], deadline: Deadline | None = None) -> requests.Response:
        target = self.check_host(url)
        self.stats.requests += 1
        started = time.perf_counter()
        timeout = self.timeout
        if deadline is not None:
            _enforce(deadline, url)
            timeout = (min(self.timeout[0], deadline.remaining()), min(self.timeout[1], deadline.remaining()))
        try:
            response = self.session.get(target, headers=headers, timeout=timeout, stream=True)
        except FetchError:
            raise
        except requests.exceptions.RequestException as exc:
            if deadline is not None:
                _enforce(deadline, url)  # the deadline cut the connection
            if isinstance(exc, requests.exceptions.RetryError):
                raise NetworkError(url, f"gave up after retries: {exc}") from exc
            if isinstance(exc, requests.exceptions.Timeout):
                raise NetworkError(url, f"timed out: {type(exc).__name__}") from exc
            raise NetworkError(url, f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.stats.seconds += time.perf_counter() - started
        if deadline is not None and deadline.fired:
            response.close()
            _enforce(deadline, url)  # headers cut short by the deadline can parse as a complete answer
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

        Raises FetchError subclasses for refused links, HTTP errors, oversize, the deadline
        (`download_seconds`) and network failures; never leaves a temp file behind on error.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="download.", suffix=".part", dir=self.temp_dir)
        os.close(fd)
        return self._download(url, Path(name), headers, have=0, validator="", cap=max_bytes or self.max_bytes,
                              deadline=Deadline(limit("download_seconds"), self.sockets), attempts=int(limit("body_attempts")),
                              keep_partial=False)

    def fetch_resumable(self, url: str, partial: Path, *, max_bytes: int | None = None,
                        attempts: int | None = None) -> FetchResult:
        """GET `url` into `partial`, resuming with Range/If-Range after an interruption.

        The partial body and its validators (a `.json` beside it) survive a failed attempt and a
        failed run, so the next attempt (this run or the next) asks only for the missing bytes; a
        server that ignores the range (200) or whose file changed (If-Range fails) sends the whole
        body again. On success `temp_path` is `partial`, complete and hashed; the caller moves it.
        Raises FetchError subclasses; oversize bodies are removed, interrupted ones kept.
        """
        partial = Path(partial)
        partial.parent.mkdir(parents=True, exist_ok=True)
        saved = _read_validators(partial, url)
        have = partial.stat().st_size if saved else 0
        return self._download(url, partial, {}, have=have, validator=saved.get("etag") or saved.get("last_modified") or "",
                              cap=max_bytes or self.max_bytes, deadline=Deadline(limit("large_download_seconds"), self.sockets),
                              attempts=attempts or int(limit("body_attempts")), keep_partial=True)

    def _download(self, url: str, path: Path, conditional: dict[str, str], *, have: int, validator: str, cap: int,
                  deadline: Deadline, attempts: int, keep_partial: bool) -> FetchResult:
        """The attempts behind `fetch` and `fetch_resumable`: a cut body is transient and asked for
        again, from byte `have` when the server confirms the range (206 + matching Content-Range),
        else from the start; HTTP errors, oversize and the deadline end the download."""
        try:
            with deadline:
                return self._attempts(url, path, conditional, have=have, validator=validator, cap=cap,
                                      deadline=deadline, attempts=attempts, keep_partial=keep_partial)
        except BaseException:
            _drop(path, keep_partial and not isinstance(sys.exc_info()[1], TooLarge))
            raise

    def _attempts(self, url: str, path: Path, conditional: dict[str, str], *, have: int, validator: str, cap: int,
                  deadline: Deadline, attempts: int, keep_partial: bool) -> FetchResult:
        """One download's attempts: see `_download`."""
        last_error: FetchError | None = None
        for _ in range(max(1, attempts)):
            if have and not validator:
                have = 0  # nothing to prove the file is unchanged: start again
            headers = {"Range": f"bytes={have}-", "If-Range": validator} if have else dict(conditional)
            response = self._get(url, headers, deadline)
            with response:
                result = _result_from(url, response)
                if response.status_code == 304 and not have:
                    self.stats.not_modified += 1
                    _drop(path, False)
                    return result
                if response.status_code == 416:
                    have, last_error = 0, HttpStatusError(url, 416)
                    continue
                if response.status_code not in (200, 206):
                    raise HttpStatusError(url, response.status_code)
                if response.status_code == 206 and _content_range_start(response.headers.get("Content-Range", "")) != have:
                    have, last_error = 0, NetworkError(url, "server answered a range we did not ask for")
                    continue
                offset = have if response.status_code == 206 else 0
                total = _expected_total(response, offset)
                if total is not None and total > cap:
                    raise TooLarge(url, f"declared size {total:,} bytes exceeds the cap of {cap:,}")
                validator = result.etag or result.last_modified
                if keep_partial:
                    _validators_path(path).write_text(json.dumps(
                        {"url": url, "etag": result.etag, "last_modified": result.last_modified}), encoding="utf-8")
                try:
                    size = self._write_body(response, path, offset, cap, url, total, result.filename, deadline)
                except NetworkError as exc:
                    _enforce(deadline, url)
                    have = path.stat().st_size if path.exists() else 0
                    log.info("%s; trying again from byte %s", exc, f"{have:,}")
                    last_error = exc
                    continue
            _enforce(deadline, url)  # a body cut by the deadline can look complete when no length was declared
            if total is not None and size != total:
                have = size
                last_error = NetworkError(url, f"body ended at {size:,} of {total:,} bytes")
                log.info("%s; trying again", last_error)
                continue
            _validators_path(path).unlink(missing_ok=True)
            result.status = 200
            result.temp_path = path
            result.size = size
            result.sha256, result.head = _hash_file(path)
            if offset:
                log.info("resumed %s at byte %s", url, f"{offset:,}")
            return result
        assert last_error is not None
        raise last_error

    def _write_body(self, response: requests.Response, path: Path, offset: int, cap: int, url: str,
                    total: int | None, label: str, deadline: Deadline) -> int:
        """Write the body at `offset` of `path` (0 truncates), under the deadline; returns the file's size."""
        started = time.perf_counter()
        size = offset
        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, desc=label[:40] or "download",
                   disable=True if self.progress is False else None, leave=False)
        try:
            with open(path, "r+b" if offset else "wb") as handle:
                os.fchmod(handle.fileno(), PUBLIC_FILE_MODE)  # it may become an archived, published file
                handle.seek(offset)
                handle.truncate()
                try:
                    for chunk in response.iter_content(CHUNK):
                        size += len(chunk)
                        self.stats.bytes_downloaded += len(chunk)
                        if size > cap:
                            raise TooLarge(url, f"body exceeds the cap of {cap:,} bytes")
                        handle.write(chunk)
                        bar.update(len(chunk))
                        _enforce(deadline, url)
                finally:
                    handle.flush()
                    os.fsync(handle.fileno())
        except (requests.exceptions.RequestException, OSError) as exc:
            _enforce(deadline, url)
            raise NetworkError(url, f"body interrupted after {size:,} bytes: {type(exc).__name__}") from exc
        finally:
            bar.close()
            self.stats.seconds += time.perf_counter() - started
        return size

    def send(self, method: str, url: str, *, headers: dict[str, str] | None = None, json_body: Any = None,
             body_path: Path | None = None, max_bytes: int = 16 * 1024 * 1024) -> tuple[int, Any]:
        """A small API call (the release-asset store): JSON or a file up, JSON (or nothing) back.

        Returns (status, parsed JSON or None); raises NetworkError/BadUrl/HostNotAllowed/TooLarge.
        """
        target = self.check_host(url)
        self.stats.requests += 1
        started = time.perf_counter()
        headers = dict(headers or {})
        try:
            if body_path is not None:
                headers["Content-Length"] = str(Path(body_path).stat().st_size)
                with open(body_path, "rb") as body:
                    response = self.session.request(method, target, headers=headers, data=body,
                                                    timeout=self.timeout, stream=True)
            else:
                response = self.session.request(method, target, headers=headers, json=json_body,
                                                timeout=self.timeout, stream=True)
            with response:
                raw = b""
                for chunk in response.iter_content(CHUNK):
                    raw += chunk
                    if len(raw) > max_bytes:
                        raise TooLarge(url, f"answer exceeds the cap of {max_bytes:,} bytes")
        except FetchError:
            raise
        except (requests.exceptions.RequestException, OSError) as exc:
            raise NetworkError(url, f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.stats.seconds += time.perf_counter() - started
        try:
            return response.status_code, json.loads(raw) if raw.strip() else None
        except ValueError:
            return response.status_code, None


def client_from_env(allowed_hosts: Iterable[str], temp_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> HttpClient:
    """An HTTP client tuned by ICE_TRACKER_CONNECT_TIMEOUT, _READ_TIMEOUT, _RETRIES, _BACKOFF and _MAX_BYTES
    (see the README's configuration table), for commands outside the daily job (the CSLLEA download)."""
    return HttpClient(
        allowed_hosts=allowed_hosts,
        temp_dir=temp_dir,
        timeout=(env_number("ICE_TRACKER_CONNECT_TIMEOUT", 15, minimum=0.001),
                 env_number("ICE_TRACKER_READ_TIMEOUT", 120, minimum=0.001)),
        retries=int(env_number("ICE_TRACKER_RETRIES", 4, integer=True)),
        backoff_factor=env_number("ICE_TRACKER_BACKOFF", 2.0),
        max_bytes=int(env_number("ICE_TRACKER_MAX_BYTES", max_bytes, integer=True, minimum=1)),
    )
