"""Per-process cache of read results, valid while the store's revisions of their layers stand."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from gridgov.store import SqlStore

T = TypeVar("T")


class RevisionCache:
    """Results keyed by (what was asked, the revisions of the layers it was read from).

    Every committed write raises its layers' revisions in the same transaction
    (``SqlStore.revisions``), so an entry whose layers still have the revisions it was read at
    is exactly what a fresh read would return. A miss reads inside one snapshot, revisions
    first, so an entry never pairs new revisions with old rows or the other way round.
    Least recently used entries go first beyond ``size``.
    """

    def __init__(self, *, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[tuple[int, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_read(self, store: SqlStore, key: Hashable, layers: Iterable[str],
                    read: Callable[[], T], *, revisions: dict[str, int] | None = None) -> T:
        """The cached result for ``key`` if none of ``layers`` changed since, else ``read()``.

        ``revisions``: the store's revisions read earlier in this request (saves a query).
        """
        names = tuple(sorted(layers))
        current = revisions if revisions is not None else store.revisions()
        stamp = tuple(current.get(n, -1) for n in names)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == stamp:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        with store.snapshot():
            seen = store.revisions()
            value = read()
        stamp = tuple(seen.get(n, -1) for n in names)
        with self._lock:
            self._entries[key] = (stamp, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
