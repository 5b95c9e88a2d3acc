"""When each asset was finished: the `progress` object a benchmarked run reports to."""

from __future__ import annotations

import time


class Timeline:
    """A `pressrun.Progress` that keeps a timestamp for every advance, for rates over windows."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, int]] = []  # (perf_counter, assets finished so far)

    def start(self, total: int) -> None:
        """Rates are taken over what was finished, so the announced total is not kept."""

    def advance(self, count: int = 1) -> None:
        done = self.marks[-1][1] if self.marks else 0
        self.marks.append((time.perf_counter(), done + count))

    @property
    def done(self) -> int:
        return self.marks[-1][1] if self.marks else 0

    @property
    def last(self) -> float | None:
        return self.marks[-1][0] if self.marks else None

    def window_rate(self, start: float, end: float) -> float | None:
        """Assets/s from the first asset past fraction `start` of those finished to the first past `end`.

        `window_rate(0, .1)` starts at the first finished asset, so browser launch is left out and
        the first and last tenths of a long run compare steady state with steady state.
        """
        if not self.marks:
            return None
        begin = self._first_reaching(max(1, start * self.done))
        finish = self._first_reaching(end * self.done)
        seconds = finish[0] - begin[0]
        return (finish[1] - begin[1]) / seconds if seconds > 0 else None

    def _first_reaching(self, count: float) -> tuple[float, int]:
        return next(mark for mark in self.marks if mark[1] >= count)
