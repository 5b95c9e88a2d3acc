"""The campaign file (`campaign.yaml`): its models, defaults and loading with clear errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import CampaignError

CAMPAIGN_FILE = "campaign.yaml"

FORMAT_PRESETS: dict[str, tuple[int, int]] = {
    "portrait": (1080, 1350),
    "landscape": (1920, 1080),
    "story": (1080, 1920),
    "square": (1080, 1080),
}

FieldType = Literal["string", "integer", "number", "boolean", "date", "email", "url", "list", "enum"]
ItemType = Literal["string", "integer", "number", "boolean", "date", "email", "url"]
OutputKind = Literal["png", "jpg", "webp", "pdf"]

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_CSS_VALUE_FORBIDDEN = re.compile(r"[;{}<>]")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"{what} {name!r} must start with a letter and hold only letters, digits, '-' and '_'"
        )
    return name


class FieldSpec(_Model):
    """One column of the recipient schema."""

    type: FieldType = "string"
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)
    max_items: int | None = Field(default=None, ge=0)
    pattern: str | None = None
    enum: list[Any] | None = None
    items: ItemType | None = None
    separator: str = Field(default="|", min_length=1)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern {value!r} is not a valid regular expression: {exc}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == "enum" and not self.enum:
            raise ValueError("type enum needs an `enum:` list of allowed values")
        if self.items is not None and self.type != "list":
            raise ValueError("`items` only applies to type list")
        return self

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class DataSpec(_Model):
    source: str | None = None
    key: str
    fields: dict[str, FieldSpec] = Field(default_factory=dict, alias="schema")
    email: str | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    sheet: str | None = None

    @model_validator(mode="after")
    def _key_and_email_in_schema(self) -> DataSpec:
        if self.fields and self.key not in self.fields:
            raise ValueError(f"key {self.key!r} is not a field of the schema")
        if self.email and self.fields and self.email not in self.fields:
            raise ValueError(f"email field {self.email!r} is not a field of the schema")
        return self

    @property
    def email_field(self) -> str | None:
        """The recipient's address column: named explicitly, else the first `email` field."""
        if self.email:
            return self.email
        return next((name for name, f in self.fields.items() if f.type == "email"), None)


class FormatSpec(_Model):
    name: str
    width: int = Field(gt=0, le=8192)
    height: int = Field(gt=0, le=8192)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_identifier(value, "format name")

    @property
    def orientation(self) -> str:
        if self.width == self.height:
            return "square"
        return "landscape" if self.width > self.height else "portrait"


class RenderOptions(_Model):
    jpg_quality: int = Field(default=90, ge=1, le=100)
    webp_quality: int = Field(default=90, ge=1, le=100)
    font_timeout_ms: int = Field(default=5000, gt=0)
    timeout_s: float = Field(default=30.0, gt=0)
    # both lossless (same pixels): "fast" encodes several times faster, "small" gives ~40% smaller files
    png_compression: Literal["fast", "small"] = "fast"


class EmailSpec(_Model):
    """The campaign's email: Jinja templates (paths in the campaign folder), the asset it shows."""

    subject: str = "email/subject.txt"
    html: str = "email/body.html"
    text: str = "email/body.txt"
    image: Literal["inline", "hosted"] = "hosted"
    format: str | None = None  # default: the campaign's first format
    colorway: str | None = None  # default: the recipient's own colorway
    output: Literal["png", "jpg", "webp"] | None = None  # default: the first image output
    sender: str | None = Field(default=None, alias="from")  # overrides PRESSRUN_SMTP_FROM
    reply_to: str | None = None
    name: str | None = None  # the field holding the recipient's display name for the To header

    @property
    def template_paths(self) -> tuple[str, str, str]:
        return (self.subject, self.html, self.text)


class CampaignSpec(_Model):
    name: str
    data: DataSpec
    template: str
    formats: list[FormatSpec] = Field(default_factory=lambda: [FormatSpec(**_preset("portrait"))])
    outputs: list[OutputKind] = Field(default_factory=lambda: ["png"])
    colorways: dict[str, dict[str, str]] = Field(default_factory=dict)
    colorway: str | None = None
    computed: dict[str, str] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    render: RenderOptions = Field(default_factory=RenderOptions)
    email: EmailSpec | None = None

    @field_validator("formats", mode="before")
    @classmethod
    def _expand_presets(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [_preset(item) if isinstance(item, str) else item for item in value]

    @field_validator("outputs", mode="before")
    @classmethod
    def _jpeg_alias(cls, value: Any) -> Any:
        if isinstance(value, list):
            return ["jpg" if item == "jpeg" else item for item in value]
        return value

    @field_validator("colorways")
    @classmethod
    def _colorways(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for name, tokens in value.items():
            _check_identifier(name, "colorway name")
            for token, css in tokens.items():
                _check_identifier(token, f"colorway {name!r} token")
                if _CSS_VALUE_FORBIDDEN.search(css):
                    raise ValueError(f"colorway {name!r} token {token!r}: {css!r} is not a CSS value")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> CampaignSpec:
        names = [f.name for f in self.formats]
        if len(set(names)) != len(names):
            raise ValueError(f"format names must be unique, got {names}")
        if len(set(self.outputs)) != len(self.outputs):
            raise ValueError(f"outputs must be unique, got {self.outputs}")
        for name in self.computed:
            _check_identifier(name, "computed field")
            if name in self.data.fields:
                raise ValueError(f"computed field {name!r} clashes with a schema field")
        if self.email:
            self._check_email(self.email)
        return self

    def _check_email(self, email: EmailSpec) -> None:
        if email.format and email.format not in [f.name for f in self.formats]:
            raise ValueError(f"email.format {email.format!r} is not one of the campaign's formats")
        if email.colorway and email.colorway not in self.colorways:
            raise ValueError(f"email.colorway {email.colorway!r} is not one of the campaign's colorways")
        images = [output for output in self.outputs if output != "pdf"]
        if email.output and email.output not in images or not images:
            raise ValueError(f"email.output must be one of the campaign's image outputs {images}")
        if email.name and self.data.fields and email.name not in self.data.fields:
            raise ValueError(f"email.name {email.name!r} is not a field of the schema")


def _preset(name: str) -> dict[str, Any]:
    if name not in FORMAT_PRESETS:
        known = ", ".join(FORMAT_PRESETS)
        raise ValueError(f"unknown format preset {name!r} (presets: {known}; or {{name, width, height}})")
    width, height = FORMAT_PRESETS[name]
    return {"name": name, "width": width, "height": height}


def campaign_file(path: str | Path) -> Path:
    """The campaign.yaml for `path`, which may be the campaign folder or the file itself."""
    path = Path(path)
    return path / CAMPAIGN_FILE if path.is_dir() else path


def load_spec(path: str | Path) -> CampaignSpec:
    """Read and validate a campaign file, raising CampaignError with every problem listed."""
    file = campaign_file(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(f"{file}: no campaign file here") from None
    except yaml.YAMLError as exc:
        raise CampaignError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CampaignError(f"{file}: expected a mapping of campaign settings at the top level")
    try:
        return CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        raise CampaignError(f"{file}:\n" + _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)
