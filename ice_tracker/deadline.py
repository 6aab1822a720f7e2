"""A wall-clock deadline per download that holds however slowly a server trickles.

A read timeout bounds each read, not the whole file: a server sending a byte every few seconds
(headers or body) never trips it. So the HTTP client's connections report their sockets
(`TrackingAdapter` → `Sockets`), and when a download's `Deadline` passes they are shut down: a read
blocked on headers or body wakes with an error, and new connections fail until the next download.
"""

from __future__ import annotations

import socket
import threading
import time
import weakref
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Sockets:
    """Every socket this client's connections open, so a deadline can cut whichever one a download is
    blocked on (waiting for headers or for body bytes); once cut, new connections fail at once."""

    def __init__(self) -> None:
        self.live: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.cut = False

    def opened(self, sock: socket.socket | None) -> None:
        if self.cut:
            if sock is not None:
                sock.close()
            raise ConnectionAbortedError("the download's deadline has passed")
        if sock is not None:
            self.live.add(sock)

    def cut_all(self) -> None:
        self.cut = True
        for sock in list(self.live):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class TrackingAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections report their sockets to `Sockets`."""

    def __init__(self, sockets: Sockets, **kwargs: Any):
        self.sockets = sockets
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        sockets = self.sockets

        def tracked(base: type) -> type:
            def connect(conn: Any) -> None:
                base.connect(conn)
                sockets.opened(conn.sock)
            return type(f"Tracked{base.__name__}", (base,), {"connect": connect})

        self.poolmanager.pool_classes_by_scheme = {
            "http": type("TrackedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": tracked(HTTPConnection)}),
            "https": type("TrackedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": tracked(HTTPSConnection)}),
        }


class Deadline:
    """A file's wall-clock budget across all its attempts. When it runs out, the client's sockets are
    shut down, so a server that trickles headers or body (each read within the read timeout) is cut
    at the deadline rather than when it finishes."""

    def __init__(self, seconds: float, sockets: Sockets):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.fired = False
        self.sockets = sockets
        sockets.cut = False
        self.timer = threading.Timer(seconds, self._cut)
        self.timer.daemon = True

    def __enter__(self) -> Deadline:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()
        self.sockets.cut = False

    def _cut(self) -> None:
        self.fired = True
        self.sockets.cut_all()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        if self.fired or self.remaining() <= 0:
            self.fired = True
        return self.fired
