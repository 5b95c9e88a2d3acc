"""`export`: an import file and an email-editor snippet for each email platform.

Every platform gets the same attributes (the recipient page link, the email image and a download
link per format and output) under its own naming convention, keyed by its own identifier
columns, and a snippet that places the image and the button with the platform's merge tags.
The recipient key is the platform's user id where the platform has one (Braze external_id,
SFMC SubscriberKey, Iterable userId): make the campaign's key your CRM's id.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ..service.catalog import recipient_url
from ..service.models import Asset, Campaign
from ..service.settings import Settings
from ..spec import CampaignSpec
from .assets import download_url, image_url
from .audience import load_audience

_UPPER_WORDS = {"url", "png", "jpg", "webp", "pdf", "id"}


@dataclass(frozen=True)
class Attribute:
    """One exported value, named by its words (`page url`) until a platform spells it."""

    words: tuple[str, ...]

    @property
    def snake(self) -> str:
        return "_".join(("pressrun", *self.words))

    @property
    def camel(self) -> str:
        return "pressrun" + "".join(w.capitalize() for w in self.words)

    @property
    def pascal(self) -> str:
        return "Pressrun" + "".join(w.capitalize() for w in self.words)

    @property
    def title(self) -> str:
        return " ".join(
            ["Pressrun", *(w.upper() if w in _UPPER_WORDS else w.capitalize() for w in self.words)]
        )


KEY = Attribute(("key",))
PAGE = Attribute(("page", "url"))
IMAGE = Attribute(("image", "url"))


@dataclass(frozen=True)
class ExportRow:
    key: str
    email: str
    values: dict[Attribute, str]


@dataclass(frozen=True)
class Platform:
    name: str
    title: str
    id_columns: tuple[str, ...]  # the platform's identifier columns, first the one it matches on
    ids: Callable[[ExportRow], tuple[str, ...]]
    column: Callable[[Attribute], str]
    merge_tag: Callable[[Attribute], str]
    prelude: Callable[[], str] = lambda: (
        ""
    )  # code the editor needs before the merge tags (AMPscript)
    link_tag: Callable[[Attribute], str] | None = None  # an href needing its own syntax
    keyed: bool = True  # an identifier column holds the recipient key; else it is an attribute

    def attributes(self, spec: CampaignSpec) -> list[Attribute]:
        found = attributes_for(spec)
        return found if not self.keyed else [a for a in found if a != KEY]

    def columns(self, attributes: Sequence[Attribute]) -> list[str]:
        return [*self.id_columns, *(self.column(a) for a in attributes)]


def _sfmc_prelude() -> str:
    lines = [f'SET @{a.camel} = AttributeValue("{a.pascal}")' for a in (PAGE, IMAGE)]
    return "%%[\n" + "\n".join(lines) + "\n]%%\n"


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(
            "braze",
            "Braze",
            ("external_id", "email"),
            lambda r: (r.key, r.email),
            column=lambda a: a.snake,
            merge_tag=lambda a: "{{custom_attribute.${" + a.snake + "}}}",
        ),
        Platform(
            "klaviyo",
            "Klaviyo",
            ("Email Address",),
            lambda r: (r.email,),
            column=lambda a: a.snake,
            merge_tag=lambda a: "{{ person|lookup:'" + a.snake + "' }}",
            keyed=False,
        ),
        Platform(
            "sfmc",
            "Salesforce Marketing Cloud",
            ("SubscriberKey", "EmailAddress"),
            lambda r: (r.key, r.email),
            column=lambda a: a.pascal,
            merge_tag=lambda a: "%%=v(@" + a.camel + ")=%%",
            prelude=_sfmc_prelude,
            link_tag=lambda a: (
                "%%=RedirectTo(@" + a.camel + ")=%%"
            ),  # dynamic links are tracked only so
        ),
        Platform(
            "hubspot",
            "HubSpot",
            ("Email",),
            lambda r: (r.email,),
            column=lambda a: a.snake,
            merge_tag=lambda a: "{{ contact." + a.snake + " }}",
            keyed=False,
        ),
        Platform(
            "marketo",
            "Marketo",
            ("Email Address",),
            lambda r: (r.email,),
            column=lambda a: a.title,
            merge_tag=lambda a: "{{lead." + a.title + "}}",
            keyed=False,
        ),
        Platform(
            "iterable",
            "Iterable",
            ("email", "userId"),
            lambda r: (r.email, r.key),
            column=lambda a: a.camel,
            merge_tag=lambda a: "{{" + a.camel + "}}",
        ),
        Platform(
            "csv",
            "CSV",
            ("key", "email"),
            lambda r: (r.key, r.email),
            column=lambda a: "_".join(a.words),
            merge_tag=lambda a: "{{" + "_".join(a.words) + "}}",
        ),
    )
}


@dataclass(frozen=True)
class ExportResult:
    platform: Platform
    file: Path
    snippet: Path
    rows: int
    excluded: list[tuple[str, str]]  # (key, reason)


def attributes_for(spec: CampaignSpec) -> list[Attribute]:
    """Key, page, email image, then one download link per format and output, in campaign order."""
    downloads = [
        Attribute((*_words(fmt.name), output, "url"))
        for fmt in spec.formats
        for output in spec.outputs
    ]
    return [KEY, PAGE, IMAGE, *downloads]


def export_rows(
    session: Session, settings: Settings, campaign: Campaign, spec: CampaignSpec
) -> tuple[list[ExportRow], list[tuple[str, str]]]:
    """A row for every mailable recipient, and (key, reason) for everyone left out."""
    rows: list[ExportRow] = []
    excluded: list[tuple[str, str]] = []
    for candidate in load_audience(session, campaign.id, spec):
        recipient = candidate.recipient
        if candidate.reason or candidate.address is None or candidate.asset is None:
            excluded.append((recipient.key, candidate.reason))
            continue
        values = {
            KEY: recipient.key,
            PAGE: recipient_url(settings, campaign.id, recipient.id),
            IMAGE: image_url(settings, candidate.asset),
        }
        for fmt in spec.formats:
            for output in spec.outputs:
                asset = _own_view(candidate.assets, fmt.name, output, candidate.asset.colorway)
                if asset is not None:
                    values[Attribute((*_words(fmt.name), output, "url"))] = download_url(
                        settings, asset
                    )
        rows.append(ExportRow(recipient.key, candidate.address.addr_spec, values))
    return rows, excluded


def export(
    session: Session,
    settings: Settings,
    campaign: Campaign,
    spec: CampaignSpec,
    platform: Platform,
    out_dir: Path,
) -> ExportResult:
    rows, excluded = export_rows(session, settings, campaign, spec)
    file, snippet = write_export(platform, spec, rows, out_dir, campaign.slug)
    return ExportResult(platform, file, snippet, len(rows), excluded)


def write_export(
    platform: Platform, spec: CampaignSpec, rows: list[ExportRow], out_dir: Path, stem: str
) -> tuple[Path, Path]:
    """The import CSV (UTF-8, header row) and the snippet HTML; returns their paths."""
    attributes = platform.attributes(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    file = out_dir / f"{stem}-{platform.name}.csv"
    with file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(platform.columns(attributes))
        for row in rows:
            writer.writerow([*platform.ids(row), *(row.values.get(a, "") for a in attributes)])
    snippet = out_dir / f"{stem}-{platform.name}-snippet.html"
    snippet.write_text(render_snippet(platform, spec.name), encoding="utf-8")
    return file, snippet


def render_snippet(platform: Platform, alt: str) -> str:
    """The image linking to the recipient page, and a button to it, in the platform's merge tags."""
    href = (platform.link_tag or platform.merge_tag)(PAGE)
    src = platform.merge_tag(IMAGE)
    return (
        f"<!-- pressrun: {platform.title} snippet, for an HTML block of the email editor -->\n"
        f"{platform.prelude()}"
        f'<a href="{href}" style="display:block;text-decoration:none">\n'
        f'  <img src="{src}" alt="{alt}" width="600"\n'
        '       style="display:block;width:100%;max-width:600px;height:auto;border:0;'
        'margin:0 auto">\n'
        "</a>\n"
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" align="center" '
        'style="margin:24px auto"><tr>\n'
        '  <td style="border-radius:6px;background:#111111">\n'
        f'    <a href="{href}" style="display:inline-block;padding:14px 28px;'
        'font:600 16px/1.2 Helvetica,Arial,sans-serif;color:#ffffff;text-decoration:none">'
        "See and download yours</a>\n"
        "  </td>\n"
        "</tr></table>\n"
    )


def _words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in re.split(r"[-_]+", name) if w)


def _own_view(assets: list[Asset], fmt: str, output: str, colorway: str) -> Asset | None:
    return next(
        (a for a in assets if a.format == fmt and a.output == output and a.colorway == colorway),
        None,
    )
