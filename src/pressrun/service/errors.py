"""Errors the service raises on purpose; the app turns them into HTTP answers."""

from __future__ import annotations

from ..errors import PressrunError


class ServiceError(PressrunError):
    """A request the service cannot carry out, with a message meant for the caller."""

    status_code = 400


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409
