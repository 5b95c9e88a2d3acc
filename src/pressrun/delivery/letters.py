"""The campaign's email templates: subject, HTML and plain text, rendered per recipient.

They live in the campaign folder beside the card template and see the same context (`r`,
`campaign`) plus the recipient's links, so they localize exactly like the asset does.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import select_autoescape

from ..errors import CampaignError, DeliveryError, RowError
from ..spec import EmailSpec
from ..templating import CampaignInfo, Record, load_template, make_environment, undefined_field


@dataclass(frozen=True)
class Links:
    """Where a recipient's email points: all signed, all absolute."""

    page: str  # their recipient page
    image: str  # the asset: a hosted URL, or `cid:...` when the image travels inline
    unsubscribe: str
    pixel: str  # the open pixel, added by the engine after the template's content


@dataclass(frozen=True)
class Letter:
    subject: str
    html: str
    text: str


class EmailTemplates:
    def __init__(self, root: Path, spec: EmailSpec, info: CampaignInfo) -> None:
        env = make_environment(root)
        # subject and text are plain text: escaping `&` there would show `&amp;` to the reader
        env.autoescape = select_autoescape(("html", "htm"), default_for_string=False, default=False)
        self._info = info
        self._subject, self._html, self._text = (
            _load(env, root, path) for path in (spec.subject, spec.html, spec.text)
        )

    def render(self, record: Record, links: Links) -> Letter:
        """One recipient's letter; RowError naming the field when a template fails for them."""
        context = {
            "r": record,
            "campaign": self._info,
            "page_url": links.page,
            "image_url": links.image,
            "unsubscribe_url": links.unsubscribe,
        }
        subject = " ".join(_render(self._subject, context, "subject").split())
        html = _render(self._html, context, "html")
        text = _render(self._text, context, "text")
        if not subject:
            raise RowError("(email)", "the subject template rendered empty")
        for part, body in (("HTML", html), ("text", text)):
            if links.unsubscribe not in body:
                raise DeliveryError(
                    f"the email's {part} template must link {{{{ unsubscribe_url }}}}"
                )
        return Letter(subject, _add_pixel(html, links.pixel), text)


def _load(env: Any, root: Path, relative: str) -> Any:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise CampaignError(f"email template {relative!r} is outside the campaign folder")
    if not path.is_file():
        raise CampaignError(f"email template {relative!r} not found in {root}")
    return load_template(env, path.relative_to(root.resolve()).as_posix())


def _render(template: Any, context: dict[str, Any], part: str) -> str:
    try:
        return template.render(context)
    except Exception as exc:  # templates are user code: report the recipient, never crash the batch
        raise RowError(
            undefined_field(exc) or "(email)", f"email {part} template failed: {exc}"
        ) from None


def _add_pixel(html: str, pixel: str) -> str:
    tag = (
        f'<img src="{html_lib.escape(pixel)}" width="1" height="1" alt=""'
        ' style="display:block;border:0;width:1px;height:1px">'
    )
    at = html.lower().rfind("</body>")
    return html[:at] + tag + html[at:] if at >= 0 else html + tag
