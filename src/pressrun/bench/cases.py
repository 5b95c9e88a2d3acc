"""The benchmark's cases: a template (the demo or the heavy one) in a shape (formats x output)."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..campaign import Campaign
from ..demo import demo_path
from ..spec import CAMPAIGN_FILE
from .synthetic import synthetic_rows

HEAVY = Path(__file__).parent / "heavy"
TEMPLATES: dict[str, Callable[[], Path]] = {"demo": demo_path, "heavy": lambda: HEAVY}
SHAPES: dict[str, tuple[tuple[str, ...], str]] = {
    "story-png": (("story",), "png"),
    "story-jpg": (("story",), "jpg"),
    "story-pdf": (("story",), "pdf"),
    "mixed-png": (("portrait", "story", "square"), "png"),
}
JPG_QUALITY = 90
DATA_FILE = "data/bench.csv"


@dataclass(frozen=True)
class Case:
    template: str
    shape: str

    @property
    def name(self) -> str:
        return f"{self.template}:{self.shape}"

    @property
    def formats(self) -> tuple[str, ...]:
        return SHAPES[self.shape][0]

    @property
    def output(self) -> str:
        return SHAPES[self.shape][1]

    def build(self, n: int, dest: Path) -> Path:
        """A copy of the template's campaign at `dest`, reshaped for this case, with N rows."""
        source = TEMPLATES[self.template]()
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("out", ".*"))
        spec = yaml.safe_load((source / CAMPAIGN_FILE).read_text(encoding="utf-8"))
        spec["formats"] = list(self.formats)
        spec["outputs"] = [self.output]
        spec.setdefault("render", {})["jpg_quality"] = JPG_QUALITY
        spec["data"]["source"] = DATA_FILE
        spec.pop("email", None)  # shapes no asset, and names a format and output a case may lack
        (dest / CAMPAIGN_FILE).write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
        _write_csv(dest / DATA_FILE, synthetic_rows(Campaign.load(source), n))
        return dest


ALL_CASES = tuple(Case(template, shape) for template in TEMPLATES for shape in SHAPES)
LONG_RUN = Case("demo", "story-png")
CAMPAIGN_RUN = Case("demo", "mixed-png")


def parse_cases(selection: str | None) -> list[Case]:
    """`demo:story-png,heavy:mixed-png` (or None for every case) as cases, in the given order."""
    if not selection:
        return list(ALL_CASES)
    by_name = {case.name: case for case in ALL_CASES}
    names = [name.strip() for name in selection.split(",") if name.strip()]
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"unknown case {', '.join(unknown)} (cases: {', '.join(by_name)})")
    return [by_name[name] for name in names]


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
