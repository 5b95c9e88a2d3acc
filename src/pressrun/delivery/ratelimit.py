"""A thread-safe token bucket: at most `rate` acquisitions per second, bursts up to `burst`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate  # 0 means unlimited
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event) -> bool:
        """Take one token, waiting until one is there; False if `stop` was set meanwhile."""
        if self._rate <= 0:
            return not stop.is_set()
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            self._tokens -= 1  # may go negative: a reservation the caller sleeps off
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        return not stop.wait(wait) if wait else not stop.is_set()
