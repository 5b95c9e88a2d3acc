"""Measuring a child process and everything it starts, from the outside (Linux).

The benchmark process becomes a child subreaper, so a Chromium process orphaned by its parent
is re-parented to it instead of to init: it still counts in the tree's memory, its CPU time
reaches RUSAGE_CHILDREN when it is reaped here, and if it outlives the run it is found.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import psutil

_PR_SET_CHILD_SUBREAPER = 36
_CHROMIUM_NAMES = ("chromium", "chrome", "headless_shell")
_SAMPLE_EVERY_S = 0.15
_EXIT_GRACE_S = 5.0


@dataclass(frozen=True)
class Measured:
    exit_code: int
    cpu_seconds: float  # user + system of the child and all its descendants
    peak_mb: float  # the largest sum over the tree at one sample
    memory: str  # "pss", or "rss" where PSS could not be read
    chromium_left: int


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def run_measured(
    argv: Sequence[str], *, marker: Path, env: dict[str, str], stderr: Path
) -> Measured:
    """Run `argv` to completion; `marker` is a path only this run's processes carry in argv."""
    cpu_before = _children_cpu()
    with stderr.open("wb") as errors, _TreeMemory() as memory:
        code = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors).wait()
        _reap_descendants(_EXIT_GRACE_S)
    cpu = _children_cpu() - cpu_before
    left = chromium_processes(marker)
    _kill(left)  # counted: now they must not weigh on the next case
    return Measured(code, cpu, memory.peak / 2**20, memory.kind, len(left))


def chromium_processes(marker: Path) -> list[psutil.Process]:
    """Chromium processes descending from this process, or with paths under `marker` in their argv."""
    own = {process.pid for process in psutil.Process().children(recursive=True)}
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or [""]
        program = f"{process.info['name']} {Path(cmdline[0]).name}"
        if not any(name in program for name in _CHROMIUM_NAMES):
            continue
        if process.pid in own or f"{marker}{os.sep}" in " ".join(cmdline):
            found.append(process)
    return found


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _reap_descendants(grace: float) -> None:
    """Reap whatever was re-parented here, until no descendant is left or `grace` runs out."""
    deadline = time.monotonic() + grace
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return  # no child at all: everything has exited and been reaped
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _kill(processes: Iterable[psutil.Process]) -> None:
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    _reap_descendants(1.0)


class _TreeMemory:
    """Samples the summed PSS of every descendant of this process, in a thread, keeping the peak."""

    def __init__(self) -> None:
        self.peak = 0
        self.kind = "pss"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(_SAMPLE_EVERY_S):
            self.peak = max(
                self.peak, sum(self._size(p) for p in psutil.Process().children(recursive=True))
            )

    def _size(self, process: psutil.Process) -> int:
        try:
            if self.kind == "pss":
                try:
                    return process.memory_full_info().pss
                except (psutil.AccessDenied, AttributeError):
                    self.kind = "rss"
            return process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return 0
