"""The library's front door: `Campaign.load(path)`, then `.validate()`, `.render()`, `.preview()`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jinja2.sandbox import SandboxedEnvironment

from ._version import __version__
from .contact_sheet import contact_sheet
from .errors import CampaignError, RenderError, RowError
from .renderer import PageJob, Renderer
from .results import Recipient, Reject, RenderReport, ValidationReport
from .rules import Rules
from .schema import Schema
from .sources import RawRow, read_rows, rows_from_records
from .spec import CAMPAIGN_FILE, CampaignSpec, FormatSpec, campaign_file, load_spec
from .storage import AssetRecord, OutputStore, asset_path
from .templating import CampaignInfo, Colorway, decorate, load_template, make_environment, undefined_field

Rows = str | Path | Sequence[RawRow] | Iterable[Mapping[str, Any]] | None

_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DEFAULT_COLORWAY = Colorway("default")


class Progress(Protocol):
    """What `render` reports to while it works (the CLI draws a progress bar from it)."""

    def start(self, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


@dataclass(frozen=True)
class _View:
    """One recipient in one format and colorway: one document, captured once per output."""

    recipient: Recipient
    format: FormatSpec
    colorway: Colorway
    fingerprint: str
    outputs: tuple[str, ...]


class Campaign:
    def __init__(self, root: Path, spec: CampaignSpec) -> None:
        self.root = root
        self.spec = spec
        template_path = (root / spec.template).resolve()
        if not template_path.is_file():
            raise CampaignError(f"template {spec.template!r} not found in {root}")
        if not template_path.is_relative_to(root.resolve()):
            raise CampaignError(f"template {spec.template!r} is outside the campaign folder")
        self._env: SandboxedEnvironment = make_environment(template_path.parent)
        self._template = load_template(self._env, template_path.name)
        self.colorways = {name: Colorway(name, tokens) for name, tokens in spec.colorways.items()}
        if not self.colorways:
            self.colorways = {DEFAULT_COLORWAY.name: DEFAULT_COLORWAY}
        self._rules = Rules(self._env, spec.computed, spec.colorway, list(self.colorways))
        self._schema = Schema(spec.data.fields)
        self._info = CampaignInfo(spec.name, spec.vars)

    @classmethod
    def load(cls, path: str | Path) -> Campaign:
        file = campaign_file(path)
        return cls(file.parent, load_spec(file))

    @property
    def name(self) -> str:
        return self.spec.name

    def default_out(self) -> Path:
        return self.root / "out"

    # -- data ---------------------------------------------------------------------------------

    def read_rows(self, rows: Rows = None) -> list[RawRow]:
        """Rows from a data file (the campaign's own by default), or records given in Python."""
        if rows is None:
            if not self.spec.data.source:
                raise CampaignError("no data source: set data.source in the campaign or pass one")
            rows = self.root / self.spec.data.source
        if isinstance(rows, (str, Path)):
            return read_rows(rows, delimiter=self.spec.data.delimiter, sheet=self.spec.data.sheet)
        rows = list(rows)
        if all(isinstance(row, RawRow) for row in rows):
            return rows  # type: ignore[return-value]
        return rows_from_records(rows)  # type: ignore[arg-type]

    def validate(self, rows: Rows = None, *, check_templates: bool = True) -> ValidationReport:
        """Resolve every row: schema, key, rules and (by default) every template view."""
        raw_rows = self.read_rows(rows)
        recipients: list[Recipient] = []
        rejects: list[Reject] = []
        first_seen: dict[str, int] = {}
        columns: set[str] = set()
        for raw in raw_rows:
            columns.update(raw.values)
            recipient, problems = self._resolve(raw, first_seen)
            if recipient is not None and check_templates:
                problems = self._template_problems(recipient)
            if problems:
                rejects.extend(problems)
            elif recipient is not None:
                recipients.append(recipient)
        return ValidationReport(len(raw_rows), recipients, rejects, self._schema.unknown_columns(columns))

    def _resolve(self, raw: RawRow, first_seen: dict[str, int]) -> tuple[Recipient | None, list[Reject]]:
        key_field = self.spec.data.key
        raw_key = raw.values.get(key_field)
        key = str(raw_key).strip() if raw_key not in (None, "") else None

        def reject(field: str, reason: str) -> tuple[None, list[Reject]]:
            return None, [Reject(raw.number, key, field, reason)]

        if raw.problem:
            return reject("(row)", raw.problem)
        values, errors = self._schema.coerce(raw.values)
        if errors:
            return None, [Reject(raw.number, key, e.field, e.reason) for e in errors]
        if key is None or key_field not in values:
            return reject(key_field, "the recipient key is missing")
        key = str(values[key_field])
        if not _SAFE_KEY.match(key):
            return reject(key_field, f"key {key!r} is not usable in file names (letters, digits, . _ -)")
        if key in first_seen:
            return reject(key_field, f"duplicate key {key!r}, first used on row {first_seen[key]}")
        first_seen[key] = raw.number
        try:
            record, colorways = self._rules.apply(values)
        except RowError as exc:
            return reject(exc.field, exc.reason)
        email_field = self.spec.data.email_field
        email = values.get(email_field) if email_field else None
        return Recipient(raw.number, key, values, record, tuple(colorways), email), []

    def _template_problems(self, recipient: Recipient) -> list[Reject]:
        try:
            for fmt in self.spec.formats:
                for colorway in recipient.colorways:
                    self.html(recipient, fmt, self.colorways[colorway])
        except RowError as exc:
            return [Reject(recipient.row, recipient.key, exc.field, exc.reason)]
        return []

    def html(self, recipient: Recipient, fmt: FormatSpec, colorway: Colorway) -> str:
        """The finished document for one view; a template error raises RowError naming the field."""
        try:
            html = self._template.render(r=recipient.record, format=fmt, colorway=colorway, campaign=self._info)
        except Exception as exc:  # templates are user code: report, never crash the batch
            field = undefined_field(exc) or "(template)"
            raise RowError(field, f"template failed in {fmt.name}/{colorway.name}: {exc}") from None
        return decorate(html, fmt, colorway)

    # -- rendering ----------------------------------------------------------------------------

    def render(
        self,
        rows: Rows = None,
        *,
        out: str | Path | None = None,
        workers: int | None = None,
        only: Sequence[str] | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> RenderReport:
        """Render every asset that is missing or out of date; resumable and incremental."""
        started = time.perf_counter()
        out = Path(out) if out else self.default_out()
        validation = self.validate(rows, check_templates=False)
        report = RenderReport(out, validation)
        store = OutputStore(out)
        finished = store.open()
        selected = _select(validation.recipients, only, limit)
        current: dict[str, AssetRecord] = {}
        jobs: list[tuple[_View, tuple[str, ...]]] = []
        for view in self._views(validation.recipients):
            pending = []
            for output in view.outputs:
                path = self._path(view, output)
                if store.is_current(finished.get(path), view.fingerprint):
                    current[path] = finished[path]
                else:
                    pending.append(output)
            if view.recipient.key in selected:
                report.skipped += len(view.outputs) - len(pending)
                if pending:
                    jobs.append((view, tuple(pending)))
        try:
            if jobs:
                asyncio.run(self._render_views(jobs, store, report, current, workers, progress))
        except KeyboardInterrupt:
            report.interrupted = True
            raise
        finally:
            report.seconds = time.perf_counter() - started
            store.close(current.values(), report.rejects)
        return report

    def _views(self, recipients: Iterable[Recipient]) -> Iterator[_View]:
        campaign_fp = self.fingerprint()
        for recipient in recipients:
            values = json.dumps(recipient.values, sort_keys=True, default=str, ensure_ascii=False)
            for fmt in self.spec.formats:
                for name in recipient.colorways:
                    colorway = self.colorways[name]
                    material = f"{campaign_fp}|{values}|{fmt.model_dump_json()}|{name}"
                    fingerprint = hashlib.sha256(material.encode()).hexdigest()
                    yield _View(recipient, fmt, colorway, fingerprint, tuple(self.spec.outputs))

    def _path(self, view: _View, output: str) -> str:
        return asset_path(view.recipient.key, view.format.name, view.colorway.name, output)

    async def _render_views(
        self,
        jobs: list[tuple[_View, tuple[str, ...]]],
        store: OutputStore,
        report: RenderReport,
        current: dict[str, AssetRecord],
        workers: int | None,
        progress: Progress | None,
    ) -> None:
        if progress:
            progress.start(sum(len(outputs) for _, outputs in jobs))
        broken: set[str] = set()
        options = self.spec.render

        def _fail(view: _View, field: str, reason: str) -> None:
            if view.recipient.key not in broken:
                broken.add(view.recipient.key)
                report.failed.append(Reject(view.recipient.row, view.recipient.key, field, reason))

        async with Renderer(self.root, options=options, workers=workers or default_workers(), exclude=store.root) as renderer:

            async def run(view: _View, outputs: tuple[str, ...]) -> None:
                key = view.recipient.key
                if key in broken:
                    return
                try:
                    html = self.html(view.recipient, view.format, view.colorway)
                    result = await renderer.render(PageJob(html, view.format.width, view.format.height, outputs))
                except RowError as exc:
                    _fail(view, exc.field, exc.reason)
                    return
                except RenderError as exc:
                    _fail(view, "(render)", str(exc))
                    return
                for output, data in result.files.items():
                    record = store.save(self._record_fields(view, output, result.qa), data)
                    current[record.path] = record
                    report.written.append(record)
                if progress:
                    progress.advance(len(outputs))

            await _bounded(run, jobs, renderer.workers * 2)

    def _record_fields(self, view: _View, output: str, qa: list[str]) -> dict[str, object]:
        return {
            "key": view.recipient.key,
            "email": view.recipient.email,
            "format": view.format.name,
            "colorway": view.colorway.name,
            "output": output,
            "path": self._path(view, output),
            "width": view.format.width,
            "height": view.format.height,
            "qa": tuple(qa),
            "fingerprint": view.fingerprint,
        }

    def fingerprint(self) -> str:
        """A hash of everything besides the row that shapes an asset: the spec and campaign files."""
        digest = hashlib.sha256(f"pressrun {__version__}".encode())
        digest.update(self.spec.model_dump_json(exclude={"data": {"source"}, "email": True}).encode())
        # the data and the email templates shape no asset: editing them must not re-render; nor
        # does the campaign file itself count as text: the spec above stands for it, less its email
        unrelated = {(self.root / CAMPAIGN_FILE).resolve()}
        if self.spec.data.source:
            unrelated.add((self.root / self.spec.data.source).resolve())
        if self.spec.email:
            unrelated.update((self.root / path).resolve() for path in self.spec.email.template_paths)
        for file in sorted(self._campaign_files()):
            if file.resolve() in unrelated:
                continue
            digest.update(str(file.relative_to(self.root)).encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
        return digest.hexdigest()

    def _campaign_files(self) -> Iterator[Path]:
        out = self.default_out()
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and Path(folder, d) != out]
            yield from (Path(folder, f) for f in files if not f.startswith("."))

    # -- preview ------------------------------------------------------------------------------

    def preview(
        self, rows: Rows = None, *, key: str | None = None, row: int | None = None, out: str | Path | None = None
    ) -> Path:
        """Render one recipient in every format and colorway and write a labelled contact sheet."""
        validation = self.validate(rows)
        recipient = _pick(validation, key, row)
        out = Path(out) if out else self.default_out()
        views = [(fmt, colorway) for colorway in self.colorways.values() for fmt in self.spec.formats]

        async def shoot() -> list[bytes]:
            async with Renderer(self.root, options=self.spec.render, workers=min(4, len(views))) as renderer:
                jobs = [
                    PageJob(self.html(recipient, fmt, cw), fmt.width, fmt.height, ("png",)) for fmt, cw in views
                ]
                results = await asyncio.gather(*(renderer.render(job) for job in jobs))
            return [result.files["png"] for result in results]

        images = asyncio.run(shoot())
        labels = [f"{fmt.name} · {cw.name}" for fmt, cw in views]
        path = out / f"preview-{recipient.key}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet = contact_sheet(
            list(zip(labels, images)), title=f"{self.name} · {recipient.key}", columns=len(self.spec.formats)
        )
        path.write_bytes(sheet)
        return path


def default_workers() -> int:
    # a page spends about half of each render waiting on its browser (loading, encoding):
    # two pages a core keep every core busy
    return 2 * (os.cpu_count() or 1)


def _select(recipients: list[Recipient], only: Sequence[str] | None, limit: int | None) -> set[str]:
    keys = [r.key for r in recipients]
    if only:
        wanted = set(only)
        keys = [k for k in keys if k in wanted]
    if limit is not None:
        keys = keys[:limit]
    return set(keys)


def _pick(validation: ValidationReport, key: str | None, row: int | None) -> Recipient:
    for recipient in validation.recipients:
        if (key is not None and recipient.key == key) or (row is not None and recipient.row == row):
            return recipient
    reasons = [f"{r.field}: {r.reason}" for r in validation.rejects if r.key == key or r.row == row]
    if key is None and row is None and validation.recipients:
        return validation.recipients[0]
    which = f"key {key!r}" if key is not None else f"row {row}"
    detail = f" (rejected: {'; '.join(reasons)})" if reasons else ""
    raise CampaignError(f"no valid recipient with {which}{detail}")


async def _bounded(run: Callable[..., Any], jobs: list[tuple[Any, ...]], limit: int) -> None:
    """Run `run(*job)` for every job with at most `limit` in flight (keeps the pool fed)."""
    iterator = iter(jobs)

    async def lane() -> None:
        for job in iterator:
            await run(*job)

    lanes = [asyncio.ensure_future(lane()) for _ in range(limit)]
    try:
        await asyncio.gather(*lanes)
    finally:  # one lane failing (a cancelled run, say) stops the others before the pool closes
        for running in lanes:
            running.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
