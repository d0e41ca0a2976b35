"""What one worker process keeps of its own work, under keys that fix it."""

import threading

from cachetools import LRUCache


class WorkerCache:
    """What one worker keeps of its own work (free slots in booking.availability,
    rendered pickers and cards, lists of doctors), the least recently used dropped
    first; a size of 0 keeps nothing."""

    def __init__(self, size):
        self._entries = LRUCache(maxsize=size) if size > 0 else None
        self._lock = threading.Lock()

    def get(self, key):
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(key)

    def put(self, key, value):
        if self._entries is None:
            return
        with self._lock:
            self._entries[key] = value
