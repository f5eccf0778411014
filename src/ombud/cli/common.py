"""What every command shares: the console, the context, and how errors are shown."""

from __future__ import annotations

import typer
from rich.console import Console

from ombud.context import Context

console = Console()
err_console = Console(stderr=True)


def context() -> Context:
    """A context built from the environment's settings."""
    return Context()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)
