"""The CLI's consoles and its one way of turning a PressrunError into a message and exit code 2."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from .errors import PressrunError

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)


def guard(action: Callable[[], T]) -> T:
    try:
        return action()
    except PressrunError as exc:
        errors.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
