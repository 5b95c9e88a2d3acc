"""The demo campaign that ships with pressrun, and `init`, which copies it to start a new one."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from .errors import PressrunError


def demo_path() -> Path:
    """The demo campaign: packaged in the wheel, or examples/wrapped in a source checkout."""
    packaged = Path(str(resources.files("pressrun") / "_demo" / "wrapped"))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "examples" / "wrapped"
    if checkout.is_dir():
        return checkout
    raise PressrunError("the demo campaign is missing from this installation")


def init_campaign(target: str | Path) -> Path:
    """Copy the demo campaign into `target` (which must not exist or be empty)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise PressrunError(f"{target} already exists and is not empty")
    shutil.copytree(demo_path(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("out", ".*"))
    return target
