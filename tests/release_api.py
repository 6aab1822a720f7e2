"""A loopback stand-in for the few GitHub REST endpoints the release-asset store uses.

GET  /repos/<o>/<r>/releases/tags/<tag>            → the release, or 404
POST /repos/<o>/<r>/releases                       → 201, a new release (tag_name from the JSON body)
GET  /repos/<o>/<r>/releases/<id>/assets?page=N    → its assets, paged (per_page honoured)
POST /uploads/repos/<o>/<r>/releases/<id>/assets?name=X  (the uploads endpoint) → 201, the asset
DELETE /repos/<o>/<r>/releases/assets/<id>         → 204
GET  /download/<tag>/<name>                        → 302 to /objects/<id> (as github.com does) → bytes

API calls without `Authorization: Bearer <token>` get 401. Faults: `fail_uploads` answers uploads 500;
`break_uploads` answers 502 and leaves a broken (`starter`, empty) asset under the name, as an
interrupted upload to GitHub does.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.loopback import LoopbackSite, QuietHandler

REPOSITORY = "archive-owner/ice-tracker"
TOKEN = "test-token-not-a-secret"


@dataclass
class ApiState:
    releases: dict[str, dict] = field(default_factory=dict)  # tag → release JSON
    assets: dict[int, list[dict]] = field(default_factory=dict)  # release id → asset JSONs
    blobs: dict[int, bytes] = field(default_factory=dict)  # asset id → bytes
    calls: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    fail_uploads: bool = False
    break_uploads: bool = False
    next_id: int = 1


class ReleaseApi(LoopbackSite):
    """`with ReleaseApi() as api:`; point ICE_TRACKER_ASSET_API at `api.base`, _UPLOADS at `api.uploads`."""

    def __init__(self) -> None:
        self.state = ApiState()
        super().__init__(_make_handler(self.state, self))
        self.uploads = self.base + "/uploads"

    def asset_bytes(self) -> dict[str, bytes]:
        """Every stored asset by name."""
        return {a["name"]: self.state.blobs[a["id"]] for assets in self.state.assets.values() for a in assets}

    def calls(self, method: str, pattern: str) -> list[tuple[str, str, int]]:
        return [c for c in self.state.calls if c[0] == method and re.search(pattern, c[1])]


def _make_handler(state: ApiState, site: ReleaseApi) -> type[BaseHTTPRequestHandler]:
    prefix = f"/repos/{REPOSITORY}/releases"

    class Handler(QuietHandler):
        def _answer(self, status: int, payload: object = None, *, body: bytes | None = None,
                    extra: dict[str, str] | None = None) -> None:
            data = body if body is not None else (json.dumps(payload).encode() if payload is not None else b"")
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if body is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            state.calls.append((self.command, self.path, status))

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                return True
            self._answer(401, {"message": "Bad credentials"})
            return False

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            if parts.path.startswith("/download/"):
                _, _, tag, name = parts.path.split("/", 3)
                release = state.releases.get(unquote(tag))
                asset = next((a for a in state.assets.get(release["id"], []) if a["name"] == unquote(name)), None) if release else None
                if asset is None:
                    self._answer(404, {"message": "Not Found"})
                else:
                    self._answer(302, extra={"Location": f"{site.base}/objects/{asset['id']}"})
                return
            if parts.path.startswith("/objects/"):
                ident = int(parts.path.rsplit("/", 1)[1])
                self._answer(200, body=state.blobs[ident]) if ident in state.blobs else self._answer(404, {})
                return
            if not self._authorised():
                return
            if parts.path.startswith(prefix + "/tags/"):
                release = state.releases.get(unquote(parts.path[len(prefix + "/tags/"):]))
                self._answer(200, release) if release else self._answer(404, {"message": "Not Found"})
                return
            match = re.fullmatch(re.escape(prefix) + r"/(\d+)/assets", parts.path)
            if match:
                query = parse_qs(parts.query)
                per_page, page = int(query.get("per_page", ["30"])[0]), int(query.get("page", ["1"])[0])
                assets = state.assets.get(int(match.group(1)), [])
                self._answer(200, assets[(page - 1) * per_page: page * per_page])
                return
            self._answer(404, {"message": "Not Found"})

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            body = self._body()
            if not self._authorised():
                return
            if parts.path == prefix:
                tag = json.loads(body)["tag_name"]
                if tag in state.releases:
                    self._answer(422, {"message": "Validation Failed"})
                    return
                ident, state.next_id = state.next_id, state.next_id + 1
                state.releases[tag] = {"id": ident, "tag_name": tag, "assets": [],
                                       "upload_url": f"{site.uploads}{prefix}/{ident}/assets{{?name,label}}"}
                state.assets[ident] = []
                self._answer(201, state.releases[tag])
                return
            match = re.fullmatch("/uploads" + re.escape(prefix) + r"/(\d+)/assets", parts.path)
            if match:
                if state.fail_uploads:
                    self._answer(500, {"message": "Server Error"})
                    return
                release_id = int(match.group(1))
                tag = next(t for t, r in state.releases.items() if r["id"] == release_id)
                name = parse_qs(parts.query)["name"][0]
                if any(a["name"] == name for a in state.assets[release_id]):
                    self._answer(422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]})
                    return
                ident, state.next_id = state.next_id, state.next_id + 1
                if state.break_uploads:
                    state.assets[release_id].append({"id": ident, "name": name, "size": 0, "state": "starter"})
                    self._answer(502, {"message": "Bad Gateway"})
                    return
                asset = {"id": ident, "name": name, "size": len(body), "state": "uploaded",
                         "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
                         "url": f"{site.base}{prefix}/assets/{ident}",
                         "browser_download_url": f"{site.base}/download/{quote(tag)}/{quote(name)}"}
                state.assets[release_id].append(asset)
                state.blobs[ident] = body
                self._answer(201, asset)
                return
            self._answer(404, {"message": "Not Found"})

        def do_DELETE(self) -> None:  # noqa: N802
            if not self._authorised():
                return
            match = re.fullmatch(re.escape(prefix) + r"/assets/(\d+)", urlsplit(self.path).path)
            for assets in state.assets.values():
                for asset in list(assets):
                    if match and asset["id"] == int(match.group(1)):
                        assets.remove(asset)
                        state.blobs.pop(asset["id"], None)
                        self._answer(204)
                        return
            self._answer(404, {"message": "Not Found"})

    return Handler
