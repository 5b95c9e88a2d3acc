"""Service configuration, from PRESSRUN_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret: str
    base_url: str
    data_dir: Path
    run_workers: int = 2  # render runs executed at once

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("PRESSRUN_DATA_DIR", "pressrun-data")).resolve()
        return cls(
            database_url=os.environ.get("PRESSRUN_DATABASE_URL", f"sqlite:///{data_dir / 'pressrun.db'}"),
            secret=os.environ.get("PRESSRUN_SECRET") or _persistent_secret(data_dir),
            base_url=os.environ.get("PRESSRUN_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            data_dir=data_dir,
            run_workers=int(os.environ.get("PRESSRUN_RUN_WORKERS", "2")),
        )


def _persistent_secret(data_dir: Path) -> str:
    """A secret generated once and kept beside the data, so signed links survive restarts."""
    file = data_dir / "secret.key"
    if not file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        file.write_text(secrets.token_urlsafe(48))
        file.chmod(0o600)
    return file.read_text().strip()
