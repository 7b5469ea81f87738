"""A TCP proxy in front of PostgreSQL that refuses or cuts connections on demand (real network faults)."""

from __future__ import annotations

import socket
import threading


class PgProxy:
    """127.0.0.1:<random port> → the real server; ``refuse``, ``cut``, ``cut_after`` and ``allow`` inject faults.

    The shared PostgreSQL server keeps running for everyone else: only connections made through
    this proxy see the database "stopped".
    """

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._accepting = True
        self._budget: int | None = None  # bytes client → server still let through, when armed
        self.connections = 0  # accepted and forwarded, for assertions that the proxy was used
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name="pgproxy", daemon=True)
        self._thread.start()

    def url(self, base_url: str) -> str:
        """``base_url`` (a postgresql:// URL to the real server) redirected through this proxy."""
        host = f"{self.target[0]}:{self.target[1]}"
        assert host in base_url, base_url
        return base_url.replace(host, f"127.0.0.1:{self.port}", 1)

    # -- faults ---------------------------------------------------------------------------------
    def refuse(self) -> None:
        """The database is "stopped": live connections are cut and new ones closed at once."""
        with self._lock:
            self._accepting = False
        self.cut()

    def allow(self) -> None:
        """The database is back."""
        with self._lock:
            self._accepting = True
            self._budget = None

    def cut(self) -> None:
        """Cut every live connection (both directions, like a crashed server or a pulled cable)."""
        with self._lock:
            socks, self._live = list(self._live), set()
        for s in socks:
            _kill(s)

    def cut_after(self, n_bytes: int, *, then_refuse: bool = True) -> None:
        """Let ``n_bytes`` more bytes reach the server, then cut (and, by default, refuse)."""
        with self._lock:
            self._budget = n_bytes
            self._refuse_after = then_refuse

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.refuse()
        _kill(self._listener)
        self._thread.join(timeout=5)

    # -- plumbing -------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                accepting = self._accepting
            if not accepting:
                _kill(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _kill(client)
                continue
            with self._lock:
                self._live |= {client, upstream}
                self.connections += 1
            for src, dst, metered in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, metered), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, metered: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if metered and not self._spend(len(data)):
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._live -= {src, dst}
            _kill(src)
            _kill(dst)

    def _spend(self, n: int) -> bool:
        """False (and the fault fires) when this chunk would exceed the armed byte budget."""
        with self._lock:
            if self._budget is None:
                return True
            if n <= self._budget:
                self._budget -= n
                return True
            self._budget = None
            if self._refuse_after:
                self._accepting = False
        self.cut()
        return False


def _kill(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass

