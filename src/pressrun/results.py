"""What validation and rendering return: plain data the CLI, the service and tests read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .storage import AssetRecord
    from .templating import Record


@dataclass(frozen=True)
class Reject:
    """A recipient that was not rendered, and why: `row` as the user numbers it in the source."""

    row: int
    key: str | None
    field: str
    reason: str


@dataclass(frozen=True)
class Recipient:
    """A row that passed the schema and the rules: ready to render."""

    row: int
    key: str
    values: dict[str, Any]
    record: Record
    colorways: tuple[str, ...]
    email: str | None


@dataclass
class ValidationReport:
    rows: int
    recipients: list[Recipient]
    rejects: list[Reject]
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({reject.row for reject in self.rejects})

    @property
    def colorway_counts(self) -> Counter[str]:
        """How many recipients each colorway got: how often each branch of the rule was taken."""
        return Counter(name for recipient in self.recipients for name in recipient.colorways)


@dataclass
class RenderReport:
    out: Path
    validation: ValidationReport
    written: list[AssetRecord] = field(default_factory=list)
    skipped: int = 0
    failed: list[Reject] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def rejects(self) -> list[Reject]:
        return self.validation.rejects + self.failed

    @property
    def qa_flagged(self) -> list[AssetRecord]:
        return [record for record in self.written if record.qa]

    @property
    def rate(self) -> float:
        return len(self.written) / self.seconds if self.seconds else 0.0
