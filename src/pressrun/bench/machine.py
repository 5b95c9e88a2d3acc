"""What the figures were measured on, recorded with them so runs can be compared over time."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import version
from typing import Any

import psutil

from .._version import __version__
from .baseline import CHROMIUM


def machine_info() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "chromium": _chromium_version(),
        "pressrun": __version__,
        "playwright": version("playwright"),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _chromium_version() -> str:
    try:
        done = subprocess.run(
            [CHROMIUM, "--version"], check=False, capture_output=True, text=True, timeout=30
        )
    except OSError as exc:
        return f"unknown ({exc})"
    return done.stdout.strip() or done.stderr.strip()
