from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

SPEC = {
    "name": "fixture",
    "data": {
        "source": "data/recipients.csv",
        "key": "id",
        "schema": {
            "id": {"type": "string"},
            "email": {"type": "email"},
            "name": {"type": "string", "max_length": 40},
            "points": {"type": "integer", "minimum": 0},
        },
    },
    "template": "templates/card.html",
    "formats": ["square"],
    "outputs": ["png"],
    "colorways": {
        "midnight": {"bg": "#121212", "fg": "#ffffff"},
        "sunrise": {"bg": "#ff6437", "fg": "#000000"},
    },
    "colorway": "'sunrise' if r.points >= 100 else 'midnight'",
}

TEMPLATE = """\
<!doctype html>
<html><head><style>
  html, body { margin: 0; width: 100%; height: 100%; background: var(--bg); color: var(--fg);
               font: 48px/1.2 "DejaVu Sans", sans-serif; }
  h1 { margin: 0; padding: 200px 80px 0; font-size: 72px; }
</style></head>
<body><h1>{{ r.name }}</h1><p style="padding: 0 80px">{{ r.points|number('en') }} points</p></body>
</html>
"""

CSV = """\
id,email,name,points
ana,ana@example.com,Ana Lima,150
bo,bo@example.com,Bo Chen,20
"""

MakeCampaign = Callable[..., Path]


def write_campaign(
    root: Path, *, html: str = TEMPLATE, csv: str = CSV, files: dict[str, bytes] | None = None,
    **spec_overrides: object,
) -> Path:
    """Write a campaign folder at `root`; keyword arguments override the spec."""
    (root / "templates").mkdir(parents=True)
    (root / "data").mkdir()
    spec = {**SPEC, **spec_overrides}
    (root / "campaign.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (root / "templates" / "card.html").write_text(textwrap.dedent(html))
    (root / "data" / "recipients.csv").write_text(textwrap.dedent(csv))
    for relative, content in (files or {}).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)
    return root


@pytest.fixture(scope="session")
def campaign_writer() -> Callable[..., Path]:
    """`write_campaign`, for fixtures of any scope."""
    return write_campaign


@pytest.fixture
def make_campaign(tmp_path: Path) -> MakeCampaign:
    """Write a campaign folder; keyword arguments override the spec; html and csv the template and data."""

    def make(*, name: str = "campaign", **options: object) -> Path:
        return write_campaign(tmp_path / name, **options)  # type: ignore[arg-type]

    return make
