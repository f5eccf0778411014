"""What every command shares: the console, the context, and how errors are shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console

from ombud.context import Context

console = Console()
err_console = Console(stderr=True)


def context() -> Context:
    """A context built from the environment's settings."""
    return Context()


#: The largest JSON file a command reads whole (a letter's details, a profile, a template's fields).
MAX_JSON_FILE = 1024 * 1024


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def read_json(path: Path, *, max_bytes: int = MAX_JSON_FILE) -> Any:
    """A small JSON file's value; anything else fails naming the file and why (too large, not UTF-8, not JSON,
    nested too deeply), never with a traceback and never quoting the content."""
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise fail(f"{path}: larger than {max_bytes:,} bytes")
    try:
        return orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        reason = "nested too deeply" if "depth" in exc.msg or "recursion" in exc.msg else exc.msg.split(":")[0]
        raise fail(f"{path}: not JSON in UTF-8 (line {exc.lineno}: {reason})") from None
