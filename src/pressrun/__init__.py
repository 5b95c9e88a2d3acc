"""pressrun: one pixel-exact, personalized asset per recipient, from data + HTML/CSS templates.

    import pressrun
    campaign = pressrun.Campaign.load("examples/wrapped")
    report = campaign.validate()
    result = campaign.render(out="out", workers=4)
"""

from ._version import __version__
from .campaign import Campaign, Progress, default_workers
from .demo import demo_path, init_campaign
from .errors import BrowserError, CampaignError, DataError, PressrunError, RenderError, RowError
from .renderer import PageJob, PageResult, Renderer
from .results import Recipient, Reject, RenderReport, ValidationReport
from .sources import RawRow, read_rows, rows_from_records
from .spec import FORMAT_PRESETS, CampaignSpec, FieldSpec, FormatSpec, load_spec
from .storage import AssetRecord, OutputStore

__all__ = [
    "FORMAT_PRESETS",
    "AssetRecord",
    "BrowserError",
    "Campaign",
    "CampaignError",
    "CampaignSpec",
    "DataError",
    "FieldSpec",
    "FormatSpec",
    "OutputStore",
    "PageJob",
    "PageResult",
    "PressrunError",
    "Progress",
    "RawRow",
    "Recipient",
    "Reject",
    "RenderError",
    "RenderReport",
    "Renderer",
    "RowError",
    "ValidationReport",
    "__version__",
    "default_workers",
    "demo_path",
    "init_campaign",
    "load_spec",
    "read_rows",
    "rows_from_records",
]
