"""The exception hierarchy: everything pressrun raises on purpose is a PressrunError."""

from __future__ import annotations


class PressrunError(Exception):
    """Base class of every error pressrun raises deliberately."""


class CampaignError(PressrunError):
    """The campaign itself is broken (campaign file, template, rule syntax): nothing can render."""


class DataError(PressrunError):
    """The data source cannot be read at all (missing file, unknown format, no header)."""


class RenderError(PressrunError):
    """Chromium failed to render an asset even after retries."""


class BrowserError(RenderError):
    """Chromium crashed, went away or refused a command (the renderer retries on a fresh page)."""


class RowError(PressrunError):
    """One recipient cannot be resolved (a rule or the template failed for its data).

    Never fatal to a batch: the row is rejected, naming `field`, and the run goes on.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DeliveryError(PressrunError):
    """Email delivery, exports or webhooks cannot proceed (configuration, templates, locks)."""
