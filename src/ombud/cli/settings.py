"""`ombud config`: the settings in effect, where each value comes from, and (with --explain) what it means.

Secrets are never printed: only whether one is set and where from (the environment, a key file in the data
folder that the embedded default generates, or nowhere yet).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from pydantic_core import ValidationError

from ombud.cli import tables as cli_tables
from ombud.cli.common import console, err_console
from ombud.config import Settings
from ombud.keys import SECRETS


@dataclass(frozen=True)
class Effective:
    """One setting as it is in effect: its variable, the value shown, where it came from, what it means."""

    variable: str
    shown: str
    source: str
    meaning: str
    secret: bool


def effective(settings: Settings, environ: dict[str, str] | None = None) -> list[Effective]:
    """Every setting in effect (secrets as set/not set only), read from these settings and environment."""
    environ = dict(os.environ if environ is None else environ)
    keys_dir = Path(settings.data_dir) / "keys"
    out = []
    for name, field in Settings.model_fields.items():
        variable = f"OMBUD_{name.upper()}"
        value = getattr(settings, name)
        source = "environment" if variable in environ else "default"
        secret = isinstance(value, SecretStr) or field.annotation in (SecretStr, SecretStr | None)
        if secret:
            if value is not None:
                shown = "set"
            elif name in SECRETS and (keys_dir / SECRETS[name][0]).exists():
                shown, source = "set", f"key file keys/{SECRETS[name][0]}"
            elif name in SECRETS:
                shown, source = "not set", "made on first use (never in production)"
            else:
                shown = "not set"
        elif name == "database_url" and value is None:
            shown, source = settings.resolved_database_url, "data folder (SQLite)"
        else:
            shown = "—" if value is None else str(getattr(value, "value", value))
            if name == "database_url":
                shown = _without_password(shown)
        out.append(Effective(variable, shown, source, field.description or "", secret))
    return out


def _without_password(url: str) -> str:
    """A database URL with any password replaced (the rest says where the store is)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def show(explain: bool = False) -> None:
    """Print the settings in effect (80 columns: name, value, source; meanings with --explain)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(x) for x in error["loc"])
            err_console.print(f"[bold red]error (OMBUD_{where.upper()}):[/] {error['msg']}")
        raise SystemExit(2) from None
    columns = ("setting (OMBUD_...)", "value", "from") + (("meaning",) if explain else ())
    table = cli_tables.table(*columns, title=f"Settings in effect ({settings.env.value})")
    table.columns[0].no_wrap = True
    for row in effective(settings):
        cells = [row.variable.removeprefix("OMBUD_"), row.shown, row.source] + ([row.meaning] if explain else [])
        table.add_row(*cells)
    console.print(table)
    console.print("Each setting is the environment variable OMBUD_<SETTING>; secrets are never shown.")
