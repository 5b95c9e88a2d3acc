"""Delivery: email with download links, exports to email platforms, webhooks back to the CRM."""
