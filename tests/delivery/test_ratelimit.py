from __future__ import annotations

import threading

from pressrun.delivery.ratelimit import TokenBucket


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Waits(threading.Event):
    """Records how long the bucket asks to wait instead of waiting; the clock moves on by it."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock
        self.asked: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.append(round(timeout or 0.0, 6))
        self.clock.now += timeout or 0.0
        return self.is_set()


def test_bucket_spaces_acquisitions_at_the_rate_after_the_burst() -> None:
    clock = _Clock()
    waits = _Waits(clock)
    bucket = TokenBucket(rate=4, burst=2, clock=clock)
    assert all(bucket.acquire(waits) for _ in range(5))
    assert waits.asked == [0.25, 0.25, 0.25]  # two from the burst, then one every 1/4 s


def test_bucket_refills_while_idle_up_to_the_burst_only() -> None:
    clock = _Clock()
    waits = _Waits(clock)
    bucket = TokenBucket(rate=1, burst=2, clock=clock)
    bucket.acquire(waits)
    bucket.acquire(waits)
    clock.now += 60  # a long pause earns no more than the burst
    for _ in range(3):
        bucket.acquire(waits)
    assert waits.asked == [1.0]


def test_once_stopped_no_acquisition_succeeds_and_unlimited_never_waits() -> None:
    clock = _Clock()
    stopped = _Waits(clock)
    stopped.set()
    assert not TokenBucket(rate=1, burst=1, clock=clock).acquire(stopped)
    bucket = TokenBucket(rate=1, burst=1, clock=clock)
    bucket.acquire(_Waits(clock))
    assert not bucket.acquire(stopped) and stopped.asked == [1.0]  # it waited, and was told to stop
    free = _Waits(clock)
    assert all(TokenBucket(rate=0).acquire(free) for _ in range(100)) and free.asked == []
