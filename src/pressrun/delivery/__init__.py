"""Delivery: email with download links, exports to email platforms, webhooks back to the CRM."""

from . import webhooks as _webhooks  # noqa: F401  (registers the webhook outbox fan-out on Event inserts)
