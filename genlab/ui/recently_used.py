"""A bounded, thread-safe map that forgets its least recently used entry: the server's caches of models
and pictures that are costly to make and too big to keep all of."""

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

Value = TypeVar("Value")


class RecentlyUsed(Generic[Value]):
    def __init__(self, size: int):
        self.size = size  # entries kept
        self._items: "OrderedDict[Hashable, Value]" = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The value kept for `key`, or `make()`'s, kept. `make` runs outside the lock, so a slow load never
        holds up requests for other keys (two callers may both make a new key's value; the last is kept)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
