"""Commands of the insider domain: `ombud insider ...`."""

from __future__ import annotations

import typer

from ombud.cli import insider_alerts
from ombud.cli.insider_events import import_events_command

insider_app = typer.Typer(help="Insider-misuse detection: access events from other tools, detectors, alerts.",
                          no_args_is_help=True)
insider_app.command("import-events")(import_events_command)
insider_alerts.register(insider_app)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(insider_app, name="insider")
