"""Durable copies of release files the repository cannot hold: assets of a GitHub release per DDP release.

Files over the repository's size limit live in the Actions cache, which evicts entries. Each one is
also uploaded, once, as an asset of the GitHub release tagged `ddp-<release_id>` in $GITHUB_REPOSITORY,
through GitHub's REST API with the workflow's $GITHUB_TOKEN (create or get the release by tag, list
its assets, remove a broken one, upload to the uploads endpoint); the manifest records the asset's download URL beside
the file's sha256, so a missing cache file can be fetched back and checked. Every request goes
through the shared HTTP client; the API and uploads base URLs are settings
($ICE_TRACKER_ASSET_API, $ICE_TRACKER_ASSET_UPLOADS), so the tests serve them from loopback.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ice_tracker.http import FetchError, HttpClient

log = logging.getLogger(__name__)

API_DEFAULT = "https://api.github.com"
UPLOADS_DEFAULT = "https://uploads.github.com"
TAG_PREFIX = "ddp-"
API_VERSION = "2022-11-28"
PAGE_SIZE = 100
NO_TOKEN = ("off: GITHUB_TOKEN or GITHUB_REPOSITORY not set, so files over the repository limit are kept "
            "only in the cache (which can evict them)")


class AssetError(Exception):
    """The release-asset API refused or failed; the message says which call and why."""


def asset_name(sha256: str, file_name: str) -> str:
    """A name GitHub keeps as given (it rewrites other characters), unique by content."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", ".", file_name).strip(".") or "file"
    return f"{sha256[:12]}-{clean}"


def asset_endpoints() -> tuple[str, str]:
    """(API base URL, uploads base URL) from the environment, else GitHub's."""
    return (os.environ.get("ICE_TRACKER_ASSET_API", "").strip().rstrip("/") or API_DEFAULT,
            os.environ.get("ICE_TRACKER_ASSET_UPLOADS", "").strip().rstrip("/") or UPLOADS_DEFAULT)


class AssetStore:
    """One repository's release assets, reached through `client`."""

    def __init__(self, client: HttpClient, repository: str, token: str, api: str, uploads: str):
        self.client, self.repository, self.token = client, repository, token
        self.api, self.uploads = api, uploads
        self._releases: dict[str, dict[str, Any]] = {}
        self._assets: dict[int, list[dict[str, Any]]] = {}
        client.allow([api, uploads])

    @classmethod
    def from_env(cls, client: HttpClient) -> AssetStore | None:
        """The store the workflow's token gives, or None without GITHUB_TOKEN and GITHUB_REPOSITORY."""
        token = os.environ.get("GITHUB_TOKEN", "").strip()
        repository = os.environ.get("GITHUB_REPOSITORY", "").strip()
        if not token or not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            return None
        return cls(client, repository, token, *asset_endpoints())

    def describe(self) -> str:
        return f"on: assets of GitHub releases {TAG_PREFIX}<release> in {self.repository}"

    def _call(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": API_VERSION, **kwargs.pop("headers", {})}
        try:
            return self.client.send(method, url, headers=headers, **kwargs)
        except FetchError as exc:
            raise AssetError(f"{method} {url}: {exc}") from exc

    def release(self, release_id: str) -> dict[str, Any]:
        """The GitHub release for a DDP release, created on first use."""
        if release_id in self._releases:
            return self._releases[release_id]
        tag = TAG_PREFIX + release_id
        base = f"{self.api}/repos/{self.repository}/releases"
        status, body = self._call("GET", f"{base}/tags/{quote(tag)}")
        if status == 404:
            status, body = self._call("POST", base, json_body={
                "tag_name": tag, "name": f"DDP release {release_id}",
                "body": (f"Files of Deportation Data Project release {release_id} too big for the repository. "
                         f"releases/ddp/{release_id}/manifest.csv lists each file's source URL and sha256.")})
            if status != 201:
                raise AssetError(f"creating release {tag} answered HTTP {status}")
        elif status != 200:
            raise AssetError(f"reading release {tag} answered HTTP {status}")
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            raise AssetError(f"release {tag}: unexpected answer")
        self._releases[release_id] = body
        return body

    def assets(self, release: dict[str, Any]) -> list[dict[str, Any]]:
        """Every asset of a release (the API pages them)."""
        ident = release["id"]
        if ident not in self._assets:
            found: list[dict[str, Any]] = []
            for page in range(1, 1000):
                status, body = self._call(
                    "GET", f"{self.api}/repos/{self.repository}/releases/{ident}/assets?per_page={PAGE_SIZE}&page={page}")
                if status != 200 or not isinstance(body, list):
                    raise AssetError(f"listing assets of release {ident} answered HTTP {status}")
                found.extend(a for a in body if isinstance(a, dict))
                if len(body) < PAGE_SIZE:
                    break
            self._assets[ident] = found
        return self._assets[ident]

    def upload(self, release_id: str, path: Path, sha256: str, file_name: str) -> str:
        """Upload `path` unless the release already holds it; returns the asset's download URL."""
        release = self.release(release_id)
        name = asset_name(sha256, file_name)
        size = path.stat().st_size
        known = self.assets(release)
        for asset in list(known):
            if asset.get("name") != name:
                continue
            if asset.get("size") == size and asset.get("state", "uploaded") == "uploaded":
                return str(asset["browser_download_url"])
            # An interrupted upload leaves a broken asset under the name: remove it, then upload again.
            status, _ = self._call("DELETE", f"{self.api}/repos/{self.repository}/releases/assets/{asset['id']}")
            if status not in (204, 404):
                raise AssetError(f"removing the broken asset {name} answered HTTP {status}")
            known.remove(asset)
        status, body = self._call(
            "POST", f"{self.uploads}/repos/{self.repository}/releases/{release['id']}/assets?name={quote(name)}",
            headers={"Content-Type": "application/octet-stream"}, body_path=path)
        if status != 201 or not isinstance(body, dict) or not body.get("browser_download_url"):
            raise AssetError(f"uploading {name} to release {TAG_PREFIX}{release_id} answered HTTP {status}")
        known.append(body)
        log.info("uploaded %s (%s bytes) to release %s%s", name, f"{size:,}", TAG_PREFIX, release_id)
        return str(body["browser_download_url"])
