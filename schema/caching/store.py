"""A bounded in-process LRU map: at most so many entries and so many bytes, the least recently used evicted first.

Both the response cache and the persisted-query store use it. A value's size is what its owner says it weighs
(its bytes plus a fixed allowance for the key and the bookkeeping, ``ENTRY_OVERHEAD``), so the configured byte
limit bounds the memory the map holds, not only the payloads; ``tests/test_caching_bounds.py`` measures it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

#: Bytes counted per entry besides its value's own: the key tuple and its strings' headers, the entry object and the
#: map's node (measured with ``tracemalloc`` at about 500 bytes for a response key; rounded up).
ENTRY_OVERHEAD = 640


class BoundedLRU(Generic[V]):
    """``key -> value`` with ``max_entries`` and ``max_bytes`` limits; a value larger than ``max_bytes`` is not kept."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        #: Bytes held, as counted (values' sizes plus ``ENTRY_OVERHEAD`` each).
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: V, size: int) -> bool:
        """Keep ``value`` (``size`` bytes besides the overhead); False when it alone is over the limits."""
        weight = size + ENTRY_OVERHEAD
        if self.max_entries <= 0 or weight > self.max_bytes:
            return False
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._items[key] = (value, weight)
        self.bytes += weight
        while len(self._items) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped
        return True

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0
