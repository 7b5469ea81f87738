"""A small thread-safe pool of opened stores: one request (or job) uses one store at a time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gridgov.errors import StoreUnavailableError
from gridgov.store import SqlStore, open_store


class StorePool:
    """Opened stores handed out one per user; a store whose database went away is dropped.

    A ``SqlStore`` holds one connection and a transaction depth, so two threads must never
    share one at the same time; reopening per request would cost a PostGIS connect each time.
    """

    def __init__(self, url: str, *, size: int = 4) -> None:
        self.url = url
        self._idle: queue.LifoQueue[SqlStore] = queue.LifoQueue()
        self._size = max(1, size)
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def store(self) -> Iterator[SqlStore]:
        """A store for the caller alone; returned to the pool afterwards (or closed if broken)."""
        try:
            store = self._idle.get_nowait()
        except queue.Empty:
            store = open_store(self.url)
        healthy = True
        try:
            yield store
        except StoreUnavailableError:
            healthy = False  # its connection is gone: open a fresh one next time
            raise
        finally:
            # A store whose connection died under another error (or without one) is dropped too.
            healthy = healthy and bool(getattr(store, "alive", True))
            with self._lock:
                keep = healthy and not self._closed and self._idle.qsize() < self._size
            if keep:
                self._idle.put(store)
            else:
                store.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
