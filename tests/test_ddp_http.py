"""`HttpClient.fetch_resumable` against the loopback Box impersonation: resume, restart, caps."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ice_tracker.http import HttpClient, NetworkError, TooLarge
from tests.ddp_site import Blob, DdpSite
from tests.ice_site import Fault


@pytest.fixture
def site():
    with DdpSite() as running:
        yield running


@pytest.fixture
def client(tmp_path: Path):
    with HttpClient(allowed_hosts={"127.0.0.1"}, temp_dir=tmp_path / "tmp", retries=1, backoff_factor=0.01,
                    timeout=(2, 2)) as running:
        yield running


BODY = b"PK\x03\x04" + os.urandom(1_500_000)


def test_partial_body_survives_a_failed_call_and_the_next_call_resumes(site: DdpSite, client: HttpClient, tmp_path: Path) -> None:
    url, path = site.box_file(BODY, "big.zip")
    partial = tmp_path / "partial" / "big.part"
    site.inject(path, Fault("cut"), Fault("cut"))
    with pytest.raises(NetworkError):
        client.fetch_resumable(url, partial, attempts=2)
    assert 0 < partial.stat().st_size < len(BODY)  # kept for the next run
    result = client.fetch_resumable(url, partial)
    assert result.sha256 == hashlib.sha256(BODY).hexdigest() and result.size == len(BODY)
    assert result.filename == "big.zip" and result.temp_path == partial and result.head[:4] == b"PK\x03\x04"
    answered = [r for r in site.requests_for(path) if r[1] in (200, 206)]
    assert [r[1] for r in answered] == [206] and answered[0][3] == len(BODY) - int(answered[0][2][6:-1])
    assert not partial.with_name(partial.name + ".json").exists()


def test_a_changed_file_is_fetched_whole_not_spliced(site: DdpSite, client: HttpClient, tmp_path: Path) -> None:
    url, path = site.box_file(BODY, "big.zip")
    partial = tmp_path / "big.part"
    site.inject(path, Fault("cut"))
    with pytest.raises(NetworkError):
        client.fetch_resumable(url, partial, attempts=1)
    changed = b"PK\x03\x04" + os.urandom(1_200_000)
    site.state.blobs[path] = Blob(changed, "big.zip")  # If-Range no longer matches: a full 200
    result = client.fetch_resumable(url, partial)
    assert result.sha256 == hashlib.sha256(changed).hexdigest()
    assert [r[1] for r in site.requests_for(path) if r[1] > 0][-1] == 200


def test_a_server_ignoring_range_restarts_cleanly(site: DdpSite, client: HttpClient, tmp_path: Path) -> None:
    site.state.ranges = False
    url, path = site.box_file(BODY, "big.zip")
    site.inject(path, Fault("cut"))
    result = client.fetch_resumable(url, tmp_path / "big.part")
    assert result.sha256 == hashlib.sha256(BODY).hexdigest() and result.size == len(BODY)


def test_over_the_cap_is_refused_and_nothing_kept(site: DdpSite, client: HttpClient, tmp_path: Path) -> None:
    url, _ = site.box_file(BODY, "big.zip")
    partial = tmp_path / "big.part"
    with pytest.raises(TooLarge):
        client.fetch_resumable(url, partial, max_bytes=1_000_000)
    assert not partial.exists() and not list(tmp_path.glob("*.json"))
