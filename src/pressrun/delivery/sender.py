"""`send`: one email per recipient, exactly once, however often it is run or interrupted.

The run holds the campaign's send lease, so no two senders ever work on one campaign. Each
message is claimed in the delivery log (`sending`, committed) just before the server can accept
it and marked `sent` once it has; see log.py for the states and smtp.py for why the one window
left (killed between the server's acceptance and our commit) ends as `unconfirmed`, reported and
not resent by itself: for a marketing email, a missing message is the lesser harm than two.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from ..campaign import Campaign as CampaignFolder
from ..campaign import Progress
from ..errors import DeliveryError, RowError
from ..service.catalog import open_pixel_url, recipient_url
from ..service.db import Database
from ..service.events import record_event
from ..service.models import Asset, Campaign, Recipient
from ..service.pages import PAGE_PREVIEW_WIDTH
from ..service.settings import Settings
from ..service.thumbs import thumbnail
from ..templating import CampaignInfo, Record
from .assets import image_url
from .audience import Candidate, load_audience
from .compose import Envelope, InlineImage, compose, new_message_id
from .config import SmtpSettings, parse_address
from .lease import Lease
from .letters import EmailTemplates, Links
from .log import DeliveryLog
from .ratelimit import TokenBucket
from .smtp import PermanentFailure, SmtpConnection, TemporaryFailure, Unconfirmed
from .unsubscribe import unsubscribe_url


@dataclass(frozen=True)
class SendOptions:
    only: Sequence[str] | None = None
    limit: int | None = None  # send at most this many messages in this run
    dry_run: bool = False
    retry_failed: bool = False
    resend_unconfirmed: bool = False


@dataclass(frozen=True)
class Outcome:
    key: str
    email: str | None
    status: str  # sent, failed, deferred, unconfirmed, skipped; `planned` in a dry run
    detail: str = ""


@dataclass
class SendReport:
    outcomes: list[Outcome] = field(default_factory=list)
    already_sent: int = 0
    dry_run: bool = False
    interrupted: bool = False

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    recipient: Recipient
    to: Address
    record: Record
    asset: Asset


def records_for(folder: CampaignFolder, data: str | Path | None = None) -> dict[str, Record]:
    """What the email templates see for each recipient: typed values plus computed fields."""
    validation = folder.validate(data, check_templates=False)
    return {r.key: r.record for r in validation.recipients}


class Sender:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        smtp: SmtpSettings,
        campaign: Campaign,
        folder: CampaignFolder,
        records: Mapping[str, Record],
    ) -> None:
        spec = folder.spec.email
        if spec is None:
            raise DeliveryError(
                f"campaign {campaign.slug!r} has no `email:` section in its campaign.yaml"
            )
        self._db, self._settings, self._smtp = db, settings, smtp
        self._campaign, self._folder, self._records = campaign, folder, records
        self._spec = spec
        self._templates = EmailTemplates(
            folder.root, spec, CampaignInfo(folder.spec.name, folder.spec.vars)
        )
        sender = spec.sender or smtp.sender
        if not sender:
            raise DeliveryError(
                "no From address: set PRESSRUN_SMTP_FROM or `email.from` in the campaign"
            )
        self._from = parse_address(sender, "From")
        reply_to = spec.reply_to or smtp.reply_to
        self._reply_to = parse_address(reply_to, "Reply-To") if reply_to else None
        self._log = DeliveryLog(db, campaign.id)
        self._stop = threading.Event()

    def run(self, options: SendOptions, progress: Progress | None = None) -> SendReport:
        if options.dry_run:
            report, jobs = self._plan(options)
            report.outcomes += [self._rehearse(job) for job in jobs]
            return report
        with Lease(self._db, f"send:{self._campaign.id}") as lease:
            self._log.recover()
            report, jobs = self._plan(options)
            try:
                report.outcomes += self._send_all(jobs, lease, progress)
            except KeyboardInterrupt:
                report.interrupted = True
                raise
        return report

    def _rehearse(self, job: _Job) -> Outcome:
        """A dry run's verdict: the message is built (templates and all) but not sent."""
        try:
            self._message(job)
        except RowError as exc:
            return Outcome(job.recipient.key, job.to.addr_spec, "failed", f"email template: {exc}")
        return Outcome(job.recipient.key, job.to.addr_spec, "planned")

    def stop(self) -> None:
        """Finish the messages in flight, start no new ones (Ctrl-C, service shutdown)."""
        self._stop.set()

    # -- planning -------------------------------------------------------------------------------

    def _plan(self, options: SendOptions) -> tuple[SendReport, list[_Job]]:
        report = SendReport(dry_run=options.dry_run)
        rows = self._log.rows()
        wanted = set(options.only) if options.only else None
        with self._db.session() as session:
            candidates = load_audience(session, self._campaign.id, self._folder.spec)
        due: list[Candidate] = []
        skipped: list[tuple[Recipient, str]] = []
        for candidate in candidates:
            recipient = candidate.recipient
            row = rows.get(recipient.id)
            status = row.status if row else "pending"
            if status == "sending":  # only a dry run sees this: a real run recovered it first
                status = "unconfirmed"
            if status == "sent":
                report.already_sent += 1
            elif wanted is not None and recipient.key not in wanted:
                continue
            elif status in ("failed", "unconfirmed") and not self._retrying(status, options):
                report.outcomes.append(
                    Outcome(recipient.key, recipient.email, status, (row and row.error) or "")
                )
            elif recipient.key not in self._records:
                skipped.append((recipient, "no longer in the campaign's data"))
            elif candidate.reason:
                skipped.append((recipient, candidate.reason))
            elif options.limit is None or len(due) < options.limit:
                due.append(candidate)
        report.outcomes += [Outcome(r.key, r.email, "skipped", reason) for r, reason in skipped]
        ids = (
            {c.recipient.id: 0 for c in due}
            if options.dry_run
            else self._log.prepare(
                [c.recipient.id for c in due], [(r.id, reason) for r, reason in skipped]
            )
        )
        return report, [self._job(ids[c.recipient.id], c) for c in due]

    @staticmethod
    def _retrying(status: str, options: SendOptions) -> bool:
        return options.retry_failed if status == "failed" else options.resend_unconfirmed

    def _job(self, delivery_id: int, candidate: Candidate) -> _Job:
        assert candidate.address is not None and candidate.asset is not None
        record = self._records[candidate.recipient.key]
        name = str(record[self._spec.name] or "") if self._spec.name else ""
        to = Address(
            display_name=name, username=candidate.address.username, domain=candidate.address.domain
        )
        return _Job(delivery_id, candidate.recipient, to, record, candidate.asset)

    # -- sending --------------------------------------------------------------------------------

    def _send_all(self, jobs: list[_Job], lease: Lease, progress: Progress | None) -> list[Outcome]:
        if progress:
            progress.start(len(jobs))
        bucket = TokenBucket(self._smtp.rate)
        local = threading.local()
        connections: list[SmtpConnection] = []
        guard = threading.Lock()

        def connection() -> SmtpConnection:
            if not hasattr(local, "smtp"):
                local.smtp = SmtpConnection(self._smtp)
                with guard:
                    connections.append(local.smtp)
            return local.smtp  # type: ignore[no-any-return]

        def work(job: _Job) -> Outcome | None:
            if self._stop.is_set() or lease.lost.is_set():
                return None
            outcome = self._deliver(job, connection(), bucket)
            if progress and outcome is not None:
                progress.advance()
            return outcome

        pool = ThreadPoolExecutor(max_workers=self._smtp.concurrency, thread_name_prefix="smtp")
        try:
            futures = [pool.submit(work, job) for job in jobs]
            outcomes = [future.result() for future in futures]
        except BaseException:
            self._stop.set()  # Ctrl-C: messages in flight finish and are logged, nothing new starts
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for smtp in connections:
                smtp.close()
        if lease.lost.is_set():
            raise DeliveryError(
                "another sender took over this campaign's send lease; this run stopped"
            )
        return [o for o in outcomes if o is not None]

    def _deliver(self, job: _Job, smtp: SmtpConnection, bucket: TokenBucket) -> Outcome | None:
        key, email = job.recipient.key, job.to.addr_spec
        try:
            message = self._message(job)
        except RowError as exc:
            self._log.finish(job.delivery_id, "failed", f"email template: {exc}")
            return Outcome(key, email, "failed", f"email template: {exc}")
        message_id = str(message["Message-ID"])
        for attempt in range(self._smtp.attempts):
            if not bucket.acquire(self._stop):
                return None
            try:
                reply = smtp.send(
                    message, lambda: self._log.mark_sending(job.delivery_id, message_id)
                )
            except Unconfirmed as exc:
                self._log.finish(job.delivery_id, "unconfirmed", f"{exc}; {message_id}")
                return Outcome(key, email, "unconfirmed", str(exc))
            except PermanentFailure as exc:
                self._log.finish(job.delivery_id, "failed", str(exc))
                self._bounce(job, exc)
                return Outcome(key, email, "failed", str(exc))
            except TemporaryFailure as exc:
                self._log.finish(job.delivery_id, "pending", f"temporary failure: {exc}")
                if attempt + 1 < self._smtp.attempts and not self._stop.wait(
                    self._smtp.backoff * 2**attempt
                ):
                    continue
                return Outcome(
                    key,
                    email,
                    "deferred",
                    f"{exc} (after {attempt + 1} attempts; a re-run retries)",
                )
            self._log.finish(job.delivery_id, "sent", reply)
            return Outcome(key, email, "sent", message_id)
        raise AssertionError("unreachable: the loop always returns")

    def _message(self, job: _Job) -> EmailMessage:
        campaign_id, recipient_id = self._campaign.id, job.recipient.id
        inline = self._inline_image(job.asset) if self._spec.image == "inline" else None
        unsubscribe = unsubscribe_url(self._settings, campaign_id, recipient_id)
        links = Links(
            page=recipient_url(self._settings, campaign_id, recipient_id),
            image=inline.url if inline else image_url(self._settings, job.asset),
            unsubscribe=unsubscribe,
            pixel=open_pixel_url(self._settings, campaign_id, recipient_id),
        )
        letter = self._templates.render(job.record, links)
        envelope = Envelope(
            sender=self._from,
            to=job.to,
            reply_to=self._reply_to,
            message_id=new_message_id(self._from),
            unsubscribe_url=unsubscribe,
            unsubscribe_mailto=self._smtp.unsubscribe_mailto,
        )
        return compose(envelope, letter, inline)

    def _inline_image(self, asset: Asset) -> InlineImage:
        """The asset as a web-sized JPEG, the same image the hosted mode links to."""
        path = thumbnail(self._settings.data_dir / "thumbs", asset, PAGE_PREVIEW_WIDTH)
        name = f"{self._campaign.slug}-{asset.format}-{asset.colorway}.jpg"
        return InlineImage(path.read_bytes(), "jpeg", name, new_message_id(self._from))

    def _bounce(self, job: _Job, failure: PermanentFailure) -> None:
        """A recipient the server refused is a bounce: record it so webhooks tell the CRM."""
        if failure.stage != "rcpt":
            return
        with self._db.session() as session:
            record_event(
                session,
                campaign_id=self._campaign.id,
                recipient_id=job.recipient.id,
                kind="bounce",
                detail={"code": failure.code, "reason": failure.reason},
            )
