"""Running the benchmark: every case with pressrun and the baseline, the long run, the campaign."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .cases import CAMPAIGN_RUN, LONG_RUN, Case
from .measure import become_subreaper, run_measured

Status = Callable[[str], None]


class BenchError(RuntimeError):
    """A benchmarked run failed: the message carries the end of its error output."""


@dataclass(frozen=True)
class Figures:
    """One measured run: timed inside the child, measured from outside it."""

    assets: int
    seconds: float  # from just before Campaign.load to the last asset written
    end_to_end_seconds: float  # the same, to the end of the run (manifest written, browser closed)
    cpu_seconds: float
    peak_mb: float
    memory: str
    chromium_left: int
    first_10_rate: float | None
    last_10_rate: float | None
    skipped: int
    qa_flagged: int
    failed: int
    rejected: int

    @property
    def rate(self) -> float | None:
        return self.assets / self.seconds if self.assets and self.seconds > 0 else None

    @property
    def cpu_per_asset(self) -> float | None:
        return self.cpu_seconds / self.assets if self.assets else None


@dataclass(frozen=True)
class CaseResult:
    case: str
    recipients: int
    pressrun: Figures
    baseline: Figures | None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.pressrun.rate or not self.baseline.rate:
            return None
        return self.pressrun.rate / self.baseline.rate


@dataclass(frozen=True)
class CampaignResult:
    recipients: int
    first: Figures
    rerun: Figures


class Suite:
    """Builds each case in a scratch folder and runs it in child processes, one at a time."""

    def __init__(self, workers: int | None, status: Status) -> None:
        self.workers = workers
        self.status = status
        self.runs: list[Figures] = []
        self._numbers = itertools.count(1)
        become_subreaper()

    def case(self, case: Case, n: int, baseline: bool) -> CaseResult:
        with self._built(case, n) as folder:
            pressrun = self._run("pressrun", folder, "out-pressrun", case.name)
            other = self._run("baseline", folder, "out-baseline", case.name) if baseline else None
        return CaseResult(case.name, n, pressrun, other)

    def long_run(self, n: int) -> Figures:
        with self._built(LONG_RUN, n) as folder:
            return self._run("pressrun", folder, "out", f"long run {LONG_RUN.name}")

    def campaign(self, n: int) -> CampaignResult:
        with self._built(CAMPAIGN_RUN, n) as folder:
            first = self._run("pressrun", folder, "out", "campaign, first run")
            rerun = self._run("pressrun", folder, "out", "campaign, unchanged re-run")
        return CampaignResult(n, first, rerun)

    @contextmanager
    def _built(self, case: Case, n: int) -> Iterator[Path]:
        self.status(f"{case.name}: building {n} recipients")
        scratch = Path(tempfile.mkdtemp(prefix="pressrun-bench-"))
        try:
            case.build(n, scratch / "campaign")
            yield scratch
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _run(self, engine: str, scratch: Path, out: str, label: str) -> Figures:
        self.status(f"{label}: {engine}")
        # short: Chromium's singleton socket goes under TMPDIR, and socket paths end at 107 bytes
        run_dir = scratch / f"r{next(self._numbers)}"
        (run_dir / "t").mkdir(parents=True)
        result = run_dir / "result.json"
        argv = [
            sys.executable,
            "-m",
            "pressrun.bench._case",
            engine,
            str(scratch / "campaign"),
            str(scratch / out),
            str(result),
        ]
        if self.workers:
            argv += ["--workers", str(self.workers)]
        # Playwright puts Chromium's profile under TMPDIR: this run's browsers carry it in their argv
        env = os.environ | {"TMPDIR": str(run_dir / "t")}
        measured = run_measured(argv, marker=run_dir / "t", env=env, stderr=run_dir / "stderr.txt")
        if measured.exit_code != 0:
            tail = (run_dir / "stderr.txt").read_text(errors="replace").strip().splitlines()[-15:]
            raise BenchError(
                f"{label} ({engine}) exited with {measured.exit_code}:\n" + "\n".join(tail)
            )
        figures = Figures(
            cpu_seconds=measured.cpu_seconds,
            peak_mb=measured.peak_mb,
            memory=measured.memory,
            chromium_left=measured.chromium_left,
            **json.loads(result.read_text(encoding="utf-8")),
        )
        self.runs.append(figures)
        return figures
